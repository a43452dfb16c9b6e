#pragma once
// Waiting in unit tests: on a condition another thread brings about, never on time.

#include <chrono>
#include <thread>

namespace scalecache::testing {

// True once `predicate` holds; false after 30 s, so a broken component fails
// the test instead of hanging it.
template <typename Predicate>
bool eventually(Predicate predicate) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace scalecache::testing
