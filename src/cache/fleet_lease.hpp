#pragma once
// Fleet-wide single-flight: before calling the origin for a key, a replica
// takes the key's lease in the shared tier; only the holder calls the
// origin, and the others wait for its fill (FillWaiter). Misses and
// background refreshes both take it here.

#include <string>

#include "cache/shared_tier.hpp"
#include "cache/vocabulary.hpp"
#include "metrics/metrics.hpp"

namespace scalecache {

// Takes the lease for `key`, counting an acquired one. On Acquired
// lease.token holds it; on Unavailable this replica calls the origin without
// a lease (the in-process single-flight is all there is); on HeldElsewhere
// another replica is fetching.
LeaseOutcome take_fleet_lease(SharedTier& tier, const std::string& key, SharedTier::Lease& lease, Metrics& metrics);

}  // namespace scalecache
