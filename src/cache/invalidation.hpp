#pragma once
// Purges, and what other replicas tell this one. A purge acts on this
// replica's L1 at once and on the shared tier (and through it every other
// replica) from the L2 pool; events from other replicas act on L1 and wake
// requests waiting for a fill.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "cache/fill_waiter.hpp"
#include "cache/l1_cache.hpp"
#include "cache/l2_presence.hpp"
#include "cache/shared_tier.hpp"
#include "cache/vocabulary.hpp"
#include "metrics/metrics.hpp"
#include "util/clock.hpp"
#include "util/worker_pool.hpp"

namespace scalecache {

class Invalidation {
 public:
  // `tier` and `waiter` are null without a shared tier. `presence` (may be
  // null) forgets every key purged or marked stale.
  Invalidation(L1Cache& l1, SharedTier* tier, FillWaiter* waiter, WorkerPool& l2_pool, Metrics& metrics,
               const TimeSource& time, L2Presence* presence = nullptr);

  // Removes `key` (or with `soft`, marks it stale) here at once and in the
  // shared tier and every replica's L1 through the L2 pool. done(true) once
  // the shared tier confirmed, or at once without one; done(false) if it
  // could not be reached.
  void purge(const std::string& key, bool soft, std::function<void(bool)> done);
  // The same for every key the origin tagged with `tag`; done(complete, keys
  // purged): not complete when the shared tier failed part-way (or was not
  // reached), so some tagged keys may still be there.
  void purge_tag(const std::string& tag, bool soft, std::function<void(bool, std::size_t)> done);

  // Another replica's event.
  void on_event(CacheEvent event, const std::string& key, int64_t stamp);

 private:
  void drop_here(const std::string& key, bool soft, int64_t now_ms);

  L1Cache& l1_;
  SharedTier* tier_;
  FillWaiter* waiter_;
  WorkerPool& l2_pool_;
  Metrics& metrics_;
  const TimeSource& time_;
  L2Presence* presence_;
};

}  // namespace scalecache
