#pragma once
// The one way an origin answer enters the cache, for misses and background
// refreshes alike: call the origin (timed, counted), make the entry
// (EntryPolicy), store it in the shared tier as one ordered fill that also
// releases the fleet lease, then in L1. Blocks on the origin: run it on the
// origin pool.

#include <memory>
#include <string>

#include "cache/entry.hpp"
#include "cache/entry_policy.hpp"
#include "cache/l1_cache.hpp"
#include "cache/shared_tier.hpp"
#include "metrics/metrics.hpp"
#include "origin/origin.hpp"
#include "util/clock.hpp"

namespace scalecache {

class OriginFill {
 public:
  struct Result {
    OriginStatus status = OriginStatus::Error;
    std::string detail;                  // the origin's reason, for errors and 404s
    bool too_large = false;              // an Error: the answer was over the origin's body limit
    std::shared_ptr<const Entry> entry;  // the answer's data, cached or not; null for errors and an uncached 404
    bool stored = false;                 // the entry was cached
  };

  // `tier` may be null (no L2).
  OriginFill(const EntryPolicy& policy, L1Cache& l1, SharedTier* tier, Origin& origin, Metrics& metrics,
             const TimeSource& time);

  // Calls the origin for `key` and caches what may be cached, unless a purge
  // came after `lease` was taken (the purge wins). When the fill released the
  // lease in the shared tier, lease.token is cleared; a token still set is the
  // caller's to release.
  // The origin gets until `deadline_ms` (wall clock); with nothing left it is
  // not called and the result is a Timeout.
  Result run(const std::string& key, SharedTier::Lease& lease, int64_t deadline_ms);

  void fill_l1(const std::string& key, const Entry& entry);

 private:
  // Nothing will be shared for `key`: the fleet stops queueing behind its lease.
  void mark_uncacheable(const std::string& key, SharedTier::Lease& lease);

  const EntryPolicy& policy_;
  L1Cache& l1_;
  SharedTier* tier_;
  Origin& origin_;
  Metrics& metrics_;
  const TimeSource& time_;
};

}  // namespace scalecache
