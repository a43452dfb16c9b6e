#include "cache/l2_read_batcher.hpp"

#include <algorithm>

#include "util/log.hpp"

namespace scalecache {

L2ReadBatcher::L2ReadBatcher(SharedTier& tier, WorkerPool& pool, std::size_t max_queued, const TimeSource& time)
    : tier_(tier), pool_(pool), max_queued_(max_queued), time_(time) {}

bool L2ReadBatcher::submit(const std::string& key, bool lease, Callback callback) {
  std::lock_guard lock(mutex_);
  if (queued_.size() >= max_queued_) return false;
  queued_.push_back({{key, lease}, std::move(callback)});
  if (drain_queued_) return true;  // the queued drain will take it
  drain_queued_ = true;
  if (pool_.submit([this] { drain(); })) return true;
  drain_queued_ = false;
  queued_.pop_back();
  return false;
}

void L2ReadBatcher::drain() {
  constexpr std::size_t kMaxPipeline = 64;
  std::vector<Queued> batch;
  std::vector<Queued> orphaned;
  {
    std::lock_guard lock(mutex_);
    const auto take = static_cast<std::ptrdiff_t>(std::min(kMaxPipeline, queued_.size()));
    batch.assign(std::make_move_iterator(queued_.begin()), std::make_move_iterator(queued_.begin() + take));
    queued_.erase(queued_.begin(), queued_.begin() + take);
    // More waiting: another L2 thread starts on them while this one reads.
    drain_queued_ = !queued_.empty() && pool_.submit([this] { drain(); });
    if (!drain_queued_) orphaned.swap(queued_);  // the pool is stopping: nobody will read them
  }
  for (auto& read : orphaned) read.callback(std::nullopt);
  std::vector<SharedTier::LookupAsk> asks;
  asks.reserve(batch.size());
  for (const auto& read : batch) asks.push_back(read.ask);
  std::vector<SharedTier::Lookup> values;
  try {
    values = tier_.lookup(asks, time_.now_ms());
  } catch (const std::exception& e) {
    log::error("shared tier read failed", {{"error", e.what()}});
  }
  values.resize(batch.size());  // a failed read leaves the rest Unavailable
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].callback(std::move(values[i]));
}

void L2ReadBatcher::stop() {
  std::vector<Queued> unread;
  {
    std::lock_guard lock(mutex_);
    unread.swap(queued_);
  }
  for (auto& read : unread) read.callback(std::nullopt);
}

}  // namespace scalecache
