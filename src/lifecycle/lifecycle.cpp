#include "lifecycle/lifecycle.hpp"

#include <pthread.h>

namespace scalecache {

void Lifecycle::request_finished() {
  if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1 && draining()) {
    std::lock_guard lock(idle_mutex_);
    idle_cv_.notify_all();
  }
}

bool Lifecycle::wait_idle(std::chrono::milliseconds bound) {
  std::unique_lock lock(idle_mutex_);
  // Polls as well as waits: a request finishing between the check and the
  // wait would otherwise be missed until the bound.
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (in_flight() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    idle_cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
  return true;
}

sigset_t Lifecycle::block_termination_signals() {
  // hiredis and libcurl write to sockets a peer may have closed.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int Lifecycle::wait_for_signal(const sigset_t& signals) {
  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  return received;
}

}  // namespace scalecache
