#include "cache/fill_waiter.hpp"

#include <algorithm>
#include <chrono>

#include "cache/freshness.hpp"
#include "util/log.hpp"

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

std::vector<FillWaiter::Looked> FillWaiter::look(const std::vector<std::pair<std::string, int64_t>>& keys) {
  constexpr std::size_t kBatch = 512;  // keys per round trip
  std::vector<Looked> over;
  for (std::size_t from = 0; from < keys.size(); from += kBatch) {
    const std::size_t to = std::min(keys.size(), from + kBatch);
    std::vector<std::string> batch;
    for (std::size_t i = from; i < to; ++i) batch.push_back(keys[i].first);
    const std::vector<SharedTier::WaitState> states = tier_.wait_states(batch);
    std::vector<std::string> present;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (states[i].entry_present) present.push_back(batch[i]);
    }
    std::vector<SharedTier::Read> reads = tier_.read(present);
    const int64_t now = time_.now_ms();
    std::size_t next_read = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const SharedTier::WaitState& state = states[i];
      if (state.entry_present) {
        std::optional<Entry>& entry = reads[next_read++].entry;
        if (entry && classify(entry->meta, now) == Freshness::Fresh) {
          over.push_back({batch[i], Outcome::Filled, std::move(entry)});
          continue;
        }
      }
      if (state.bypass) {
        over.push_back({batch[i], Outcome::Bypass, std::nullopt});
      } else if (state.failed) {
        over.push_back({batch[i], Outcome::Failed, std::nullopt});
      } else if (state.unavailable || !state.lease_held) {
        over.push_back({batch[i], Outcome::LeaseGone, std::nullopt});
      } else if (now >= keys[from + i].second) {
        over.push_back({batch[i], Outcome::TimedOut, std::nullopt});
      }
    }
  }
  return over;
}

void FillWaiter::answer(const std::vector<Looked>& over, std::unique_lock<std::mutex>& lock) {
  for (const Looked& looked : over) {
    auto it = waiting_.find(looked.key);
    if (it == waiting_.end()) continue;
    auto waits = std::move(it->second);
    waiting_.erase(it);
    lock.unlock();
    for (auto& w : waits) {
      try {
        w.callback(looked.outcome, looked.entry);
      } catch (const std::exception& e) {
        log::error("fill wait callback failed", {{"error", e.what()}});
      }
    }
    lock.lock();
  }
}

void FillWaiter::loop() {
  std::unique_lock lock(mutex_);
  auto next_poll = std::chrono::steady_clock::now();
  while (!stopping_) {
    // Keys whose fill was announced (or whose wait just began: the fill may
    // have landed between the lease refusal and now) are looked at at once;
    // every waiting key when the poll interval is up.
    const bool poll = std::chrono::steady_clock::now() >= next_poll;
    std::vector<std::pair<std::string, int64_t>> keys;
    for (const auto& [key, waits] : waiting_) {
      if (!poll && !notified_.contains(key)) continue;
      int64_t deadline = 0;
      for (const auto& w : waits) deadline = std::max(deadline, w.deadline_ms);
      keys.emplace_back(key, deadline);
    }
    notified_.clear();
    if (poll) next_poll = std::chrono::steady_clock::now() + std::chrono::milliseconds(poll_ms_);
    lock.unlock();
    std::vector<Looked> over;
    try {
      over = look(keys);
    } catch (const std::exception& e) {
      // The waits stay; the next pass looks again. Only the deadline ends them now.
      log::error("fill waiter pass failed", {{"error", e.what()}});
    }
    lock.lock();
    answer(over, lock);
    wake_.wait_until(lock, next_poll, [this] { return stopping_ || !notified_.empty(); });
  }
  auto remaining = std::move(waiting_);
  waiting_.clear();
  lock.unlock();
  for (auto& [key, waits] : remaining) {
    for (auto& w : waits) w.callback(Outcome::TimedOut, std::nullopt);
  }
}

}  // namespace scalecache
