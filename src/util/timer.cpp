#include "util/timer.hpp"

#include "util/log.hpp"

namespace scalecache {

Timer::Timer() : thread_([this] { loop(); }) {}

Timer::~Timer() { stop(); }

void Timer::at(Clock::time_point when, std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    due_.emplace(when, std::move(callback));
  }
  changed_.notify_one();
}

void Timer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    due_.clear();
  }
  changed_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Timer::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (due_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const auto first = due_.begin();
    if (first->first > Clock::now()) {
      // A copy: wait_until reads its deadline again after waking, and stop()
      // may have freed the entry it came from meanwhile (TSan saw it).
      const Clock::time_point when = first->first;
      changed_.wait_until(lock, when);
      continue;
    }
    std::function<void()> callback = std::move(first->second);
    due_.erase(first);
    lock.unlock();
    try {
      callback();
    } catch (const std::exception& e) {
      log::error("timer callback failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

}  // namespace scalecache
