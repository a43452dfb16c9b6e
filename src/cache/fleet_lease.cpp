#include "cache/fleet_lease.hpp"

namespace scalecache {

LeaseOutcome take_fleet_lease(SharedTier& tier, const std::string& key, SharedTier::Lease& lease, Metrics& metrics) {
  const LeaseOutcome outcome = tier.take_lease(key, lease);
  if (outcome == LeaseOutcome::Acquired) metrics.lease(LeaseOutcome::Acquired);
  return outcome;
}

}  // namespace scalecache
