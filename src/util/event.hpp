#pragma once
// A one-way flag other threads can wait on with a bound: set once (by any
// thread, any number of times), and every wait returns as soon as it is.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace scalecache {

class Event {
 public:
  void set() {
    {
      std::lock_guard lock(mutex_);
      set_ = true;
    }
    cv_.notify_all();
  }

  // True once set; false when `bound` passed first.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> bound) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, bound, [this] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

}  // namespace scalecache
