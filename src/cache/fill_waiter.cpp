#include "cache/fill_waiter.hpp"

#include <chrono>

#include "cache/freshness.hpp"

namespace scalecache {

FillWaiter::FillWaiter(SharedTier& tier, int64_t poll_ms, const TimeSource& time)
    : tier_(tier), poll_ms_(poll_ms), time_(time) {
  thread_ = std::thread([this] { loop(); });
}

FillWaiter::~FillWaiter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void FillWaiter::wait(const std::string& key, int64_t deadline_ms, Callback callback) {
  {
    std::lock_guard lock(mutex_);
    waiting_[key].push_back({deadline_ms, std::move(callback)});
    notified_.insert(key);  // check at once: the fill may have landed already
  }
  wake_.notify_all();
}

void FillWaiter::notify_filled(const std::string& key) {
  {
    std::lock_guard lock(mutex_);
    if (!waiting_.contains(key)) return;
    notified_.insert(key);
  }
  wake_.notify_all();
}

std::optional<FillWaiter::Outcome> FillWaiter::check(const std::string& key, int64_t deadline_ms,
                                                     std::optional<Entry>& entry) {
  SharedTier::Read got = tier_.read_one(key);
  if (got.entry && classify(got.entry->meta, time_.now_ms()) == Freshness::Fresh) {
    entry = std::move(got.entry);
    return Outcome::Filled;
  }
  if (got.status == SharedTier::ReadStatus::Unavailable || !tier_.lease_held(key)) return Outcome::LeaseGone;
  if (time_.now_ms() >= deadline_ms) return Outcome::TimedOut;
  return std::nullopt;
}

void FillWaiter::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    // The first pass after a wait() registers runs at once: the fill may
    // have landed between the lease refusal and now.
    if (stopping_) break;
    std::vector<std::pair<std::string, int64_t>> keys;
    for (const auto& [key, waits] : waiting_) {
      int64_t deadline = 0;
      for (const auto& w : waits) deadline = std::max(deadline, w.deadline_ms);
      keys.emplace_back(key, deadline);
    }
    notified_.clear();
    lock.unlock();

    std::vector<std::pair<std::string, std::pair<Outcome, std::optional<Entry>>>> done;
    for (const auto& [key, deadline] : keys) {
      std::optional<Entry> entry;
      if (auto outcome = check(key, deadline, entry)) done.push_back({key, {*outcome, std::move(entry)}});
    }

    lock.lock();
    for (auto& [key, result] : done) {
      auto it = waiting_.find(key);
      if (it == waiting_.end()) continue;
      auto waits = std::move(it->second);
      waiting_.erase(it);
      lock.unlock();
      for (auto& w : waits) w.callback(result.first, result.second);
      lock.lock();
    }
    if (stopping_) break;
    wake_.wait_for(lock, std::chrono::milliseconds(poll_ms_),
                   [this] { return stopping_ || !notified_.empty(); });
  }
  auto remaining = std::move(waiting_);
  waiting_.clear();
  lock.unlock();
  for (auto& [key, waits] : remaining) {
    for (auto& w : waits) w.callback(Outcome::TimedOut, std::nullopt);
  }
}

}  // namespace scalecache
