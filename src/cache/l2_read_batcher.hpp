#pragma once
// Reads of concurrent misses, sent to the shared tier together: requests
// queue their key, and each wake-up of an L2 pool thread reads up to a
// pipeline's worth of them in one round trip. Under load that turns N
// round trips into N / 64; idle, a read goes out at once. A read may carry
// the fleet lease step (SharedTier::lookup): it still goes in the same
// pipeline.

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache/shared_tier.hpp"
#include "util/clock.hpp"
#include "util/worker_pool.hpp"

namespace scalecache {

class L2ReadBatcher {
 public:
  // The read, on an L2 pool thread; nullopt when it will never be made (shutting down).
  using Callback = std::function<void(std::optional<SharedTier::Lookup>)>;

  L2ReadBatcher(SharedTier& tier, WorkerPool& pool, std::size_t max_queued, const TimeSource& time);

  // Reads `key`, with `lease` also the lease step when no entry is servable.
  // False when too many reads are queued already; `callback` is then dropped.
  bool submit(const std::string& key, bool lease, Callback callback);

  // Answers every read still queued with nullopt. Call after the pool stopped.
  void stop();

 private:
  struct Queued {
    SharedTier::LookupAsk ask;
    Callback callback;
  };
  void drain();

  SharedTier& tier_;
  WorkerPool& pool_;
  const std::size_t max_queued_;
  const TimeSource& time_;
  std::mutex mutex_;
  std::vector<Queued> queued_;  // waiting for the next pipeline
  bool drain_queued_ = false;
};

}  // namespace scalecache
