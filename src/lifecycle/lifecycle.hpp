#pragma once
// Start-up, readiness and graceful shutdown. The process blocks SIGTERM and
// SIGINT in every thread before any starts and waits for them with
// sigwait() in main, because Pistache's shutdown is not async-signal-safe.
//
// Shutdown sequence: /readyz turns 503 at once; the server keeps serving
// (answering with Connection: close so load balancers move away) for
// drain_seconds; it then waits up to grace_seconds for in-flight requests.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <mutex>

namespace scalecache {

class Lifecycle {
 public:
  enum class State { Starting, Serving, Draining };

  State state() const { return state_.load(std::memory_order_relaxed); }
  bool ready() const { return state() == State::Serving; }
  bool draining() const { return state() == State::Draining; }
  // Starting -> Serving only: a drain that began during start-up stays a drain.
  void set_serving() {
    State starting = State::Starting;
    state_.compare_exchange_strong(starting, State::Serving);
  }
  void begin_drain() { state_.store(State::Draining); }

  void request_started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void request_finished();
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

  // True when no request is in flight, waiting at most `bound`.
  bool wait_idle(std::chrono::milliseconds bound);

  // Blocks SIGTERM, SIGINT (and ignores SIGPIPE) in the calling thread and,
  // through inheritance, every thread it starts afterwards.
  static sigset_t block_termination_signals();
  // Returns the signal received.
  static int wait_for_signal(const sigset_t& signals);

 private:
  std::atomic<State> state_{State::Starting};
  std::atomic<int64_t> in_flight_{0};
  std::mutex idle_mutex_;
  std::condition_variable idle_cv_;
};

}  // namespace scalecache
