#pragma once
// The cache's words for what happened to a request, an entry or a lease.
// The HTTP layer renders them, the metrics count them; they are defined here
// because the cache decides them.

namespace scalecache {

// Where an answer came from.
enum class CacheSource { L1, L2, Origin, Stale, Negative };

// Why an entry past its TTL was served.
enum class StaleReason { Revalidate, Error };

// What taking the fleet lease for a key came to, and what a request did about it.
enum class LeaseOutcome {
  Acquired,       // this replica calls the origin for the fleet
  HeldElsewhere,  // another replica does: wait for its fill
  Unavailable,    // the shared tier could not be asked: call the origin without a lease
  TimedOut,       // waited for another replica's fill until the deadline
  Bypass,         // the key's last answer could not be cached: call the origin, no lease, no waiting
};

enum class PurgeKind { Key, Tag, Soft };

// What one replica tells the others about a key through the shared tier.
enum class CacheEvent : char { Filled = 'F', Purged = 'P', MarkedStale = 'S', Uncacheable = 'U', Failed = 'X' };

}  // namespace scalecache
