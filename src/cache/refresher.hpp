#pragma once
// Background refreshes: an entry served inside stale-while-revalidate, or a
// fresh one XFetch picked for early refresh, is fetched anew while readers
// keep getting the current copy. One refresh per key at a time on this
// replica, and one for the fleet (the lease): a replica that finds another
// holding the lease, or a newer entry already in the shared tier, stops.
//
// Two steps on two pools, so a slow origin never holds the threads that
// serve L2 reads: check and lease on the L2 pool, the origin on the origin pool.
// With a job queue the second step is a job for the worker tier instead.

#include <cstdint>
#include <string>

#include "cache/l1_cache.hpp"
#include "cache/origin_fill.hpp"
#include "cache/shared_tier.hpp"
#include "cache/single_flight.hpp"
#include "metrics/metrics.hpp"
#include "queue/job_queue.hpp"
#include "util/clock.hpp"
#include "util/worker_pool.hpp"

namespace scalecache {

class Refresher {
 public:
  enum class Trigger { Stale, Early };

  // `tier` may be null (no L2: the origin step only).
  // A refresh's origin call gets `origin_timeout_ms` (no client waits on it).
  // `queue` set: refreshes become jobs carrying a lease of `lease_ttl_ms`.
  Refresher(SharedTier* tier, OriginFill& fill, WorkerPool& l2_pool, WorkerPool& origin_pool, Metrics& metrics,
            const TimeSource& time, int64_t origin_timeout_ms, JobQueue* queue = nullptr, int64_t lease_ttl_ms = 0);

  // Starts a refresh of `key`, whose copy here was stored at `known_stored_at_ms`,
  // unless one runs already. Never blocks; a refresh that cannot be queued is
  // dropped (the next read tries again).
  void refresh(const std::string& key, int64_t known_stored_at_ms, Trigger trigger);

 private:
  // Each step returns true when it handed the refresh on to the next step.
  bool lease_step(const std::string& key, int64_t known_stored_at_ms);
  bool origin_step(const std::string& key, SharedTier::Lease lease);
  // True (and L1 updated) when the shared tier already holds a newer fresh entry.
  bool refreshed_elsewhere(const std::string& key, int64_t known_stored_at_ms);
  // Runs `step` on `pool`; ends the refresh unless the step handed it on.
  template <typename Step>
  bool submit(WorkerPool& pool, const std::string& key, Step step);

  SharedTier* tier_;
  OriginFill& fill_;
  WorkerPool& l2_pool_;
  WorkerPool& origin_pool_;
  Metrics& metrics_;
  const TimeSource& time_;
  const int64_t origin_timeout_ms_;
  JobQueue* queue_;
  const int64_t lease_ttl_ms_;
  SingleFlight<bool> running_;
};

}  // namespace scalecache
