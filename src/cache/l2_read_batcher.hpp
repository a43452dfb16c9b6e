#pragma once
// Reads of concurrent misses, sent to the shared tier together: requests
// queue their key, and each wake-up of an L2 pool thread reads up to a
// pipeline's worth of them in one round trip. Under load that turns N
// round trips into N / 64; idle, a read goes out at once.

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache/shared_tier.hpp"
#include "util/worker_pool.hpp"

namespace scalecache {

class L2ReadBatcher {
 public:
  // The read, on an L2 pool thread; nullopt when it will never be made (shutting down).
  using Callback = std::function<void(std::optional<SharedTier::Read>)>;

  L2ReadBatcher(SharedTier& tier, WorkerPool& pool, std::size_t max_queued);

  // False when too many reads are queued already; `callback` is then dropped.
  bool submit(const std::string& key, Callback callback);

  // Answers every read still queued with nullopt. Call after the pool stopped.
  void stop();

 private:
  struct Queued {
    std::string key;
    Callback callback;
  };
  void drain();

  SharedTier& tier_;
  WorkerPool& pool_;
  const std::size_t max_queued_;
  std::mutex mutex_;
  std::vector<Queued> queued_;  // waiting for the next pipeline
  bool drain_queued_ = false;
};

}  // namespace scalecache
