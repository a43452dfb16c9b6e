#pragma once
// Callbacks run at a time, on one thread of the timer's: what bounds a
// request's wait (Prefer: wait=N) without holding a thread per request.
// Callbacks must be short and must not block; stop() drops those not yet due.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace scalecache {

class Timer {
 public:
  using Clock = std::chrono::steady_clock;

  Timer();
  ~Timer();  // stop()
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Runs `callback` at `when` (at once if that has passed), unless stopped first.
  void at(Clock::time_point when, std::function<void()> callback);
  // Drops what is not due yet and joins the thread; no callback runs afterwards.
  void stop();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::multimap<Clock::time_point, std::function<void()>> due_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace scalecache
