#pragma once
// An origin for unit tests: answers "value-of-<key>#<n>" (n counts calls),
// or what the test set for the key; can fail on demand, and can hold every
// call at a gate until the test opens it, so concurrent requests pile up
// behind one call as long as the test needs.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "origin/origin.hpp"

namespace scalecache::testing {

class FakeOrigin final : public Origin {
 public:
  OriginResponse fetch(const std::string& key, std::chrono::milliseconds /*budget*/) override {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    --waiting_;
    const int n = ++calls_[key];
    ++total_calls_;
    changed_.notify_all();
    if (min_ms_ > 0) {
      // Makes the measured compute time at least this long (early refresh reads it).
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(min_ms_));
      lock.lock();
    }
    if (failing_) return OriginResponse::failed(OriginStatus::Error, "origin failed on purpose");
    if (auto it = scripted_.find(key); it != scripted_.end()) return it->second;
    return OriginResponse::ok("value-of-" + key + "#" + std::to_string(n));
  }

  void hold() {
    set([this] { open_ = false; });
  }
  void open() {
    set([this] { open_ = true; });
  }
  void fail(bool failing) {
    set([this, failing] { failing_ = failing; });
  }
  void take_at_least_ms(int ms) {
    set([this, ms] { min_ms_ = ms; });
  }
  void script(const std::string& key, OriginResponse response) {
    set([&] { scripted_[key] = std::move(response); });
  }

  // Blocks until `n` calls wait at the closed gate.
  void wait_for_held_calls(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return waiting_ >= n; });
  }
  // Blocks until `n` calls in all have been answered (or are being answered).
  void wait_for_calls(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return total_calls_ >= n; });
  }
  int calls(const std::string& key) {
    std::lock_guard lock(mutex_);
    return calls_[key];
  }
  int total_calls() {
    std::lock_guard lock(mutex_);
    return total_calls_;
  }

 private:
  template <typename Fn>
  void set(Fn fn) {
    {
      std::lock_guard lock(mutex_);
      fn();
    }
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  bool failing_ = false;
  int min_ms_ = 0;
  int waiting_ = 0;
  int total_calls_ = 0;
  std::map<std::string, int> calls_;
  std::map<std::string, OriginResponse> scripted_;
};

}  // namespace scalecache::testing
