#pragma once
// The port to L2: the store every replica shares, in the cache's words.
// The cache reads entries, holds the fleet lease while it calls the origin,
// stores fills, purges, and hears what other replicas did; how that maps
// onto a store (commands, key layout, scripts, pub/sub) belongs to the
// implementation: redis/redis_shared_tier for Redis, an in-memory fake in
// the unit tests.
//
// Every call blocks for at most the store's own timeout and never throws for
// a store that is down or slow: it answers Unavailable or false instead, and
// the cache carries on with L1 and the origin.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cache/entry.hpp"
#include "cache/vocabulary.hpp"

namespace scalecache {

class SharedTier {
 public:
  enum class ReadStatus { Found, Missing, Unavailable };
  struct Read {
    ReadStatus status = ReadStatus::Unavailable;
    std::optional<Entry> entry;  // set when Found; an unreadable entry counts as Missing
  };

  // A replica's hold on a key while it fetches: the fleet lease (token set
  // while this replica holds it) and the key's purge generation as it was
  // when the fetch began. A fill carrying an older generation than the
  // store's is refused: a purge always wins over a fetch that was in flight.
  struct Lease {
    std::string token;
    std::optional<int64_t> generation;  // unknown when the store could not be asked
  };

  enum class FillOutcome {
    Stored,      // the entry is in the shared tier and every replica was told
    Superseded,  // a purge came after the fetch began: nothing was stored
    Failed,      // the store could not be reached, or the fetch had no generation
  };
  struct FillResult {
    FillOutcome outcome = FillOutcome::Failed;
    bool lease_released = false;  // the lease named in the fill is gone, or there was none
  };

  struct TagPurge {
    std::vector<std::string> keys;  // the keys purged in the shared tier
    std::size_t notices_sent = 0;
    bool complete = false;  // false: the store failed part-way; some tagged keys may remain
  };

  struct EventHandlers {
    // Other replicas' events only. `stamp` is the filled entry's stored_at_ms (0 for the others).
    std::function<void(CacheEvent, const std::string& key, int64_t stamp)> on_event;
    // After a broken subscription came back: events may have been missed.
    std::function<void()> on_resubscribed;
  };

  virtual ~SharedTier() = default;

  // A miss's first look at the shared tier (lookup()). With `lease` set and
  // no entry servable at now_ms (fresh, or stale-while-revalidate for a
  // positive entry), the same round trip also runs the lease step, so a miss
  // costs two round trips in all: this one and its fill.
  struct LookupAsk {
    std::string key;
    bool lease = false;
  };
  struct Lookup {
    Read read;                                  // an unservable entry is still returned: a stale-if-error stand-in
    std::optional<LeaseOutcome> lease_outcome;  // set when the lease step ran
    Lease lease;                                // as take_lease sets it, when it ran
  };

  // Entries for several keys in one round trip, in the order asked; the
  // lease step where asked. Asking it costs a script on the store, a plain
  // read does not: ask it only for keys likely to miss.
  virtual std::vector<Lookup> lookup(const std::vector<LookupAsk>& asks, int64_t now_ms) = 0;
  // Entries for several keys in one round trip, in the order asked.
  std::vector<Read> read(const std::vector<std::string>& keys) {
    std::vector<LookupAsk> asks;
    asks.reserve(keys.size());
    for (const std::string& key : keys) asks.push_back({key, false});
    std::vector<Read> reads;
    reads.reserve(keys.size());
    for (Lookup& found : lookup(asks, 0)) reads.push_back(std::move(found.read));
    return reads;
  }
  Read read_one(const std::string& key) { return std::move(read(std::vector<std::string>{key}).front()); }

  // The fleet lease: while one replica holds it for a key, only that replica
  // calls the origin for it. Sets lease.token on Acquired (empty otherwise),
  // and lease.generation whenever the store answered. Bypass when the key's
  // last answer could not be cached (see mark_uncacheable).
  virtual LeaseOutcome take_lease(const std::string& key, Lease& lease) = 0;
  virtual void release_lease(const std::string& key, const std::string& token) = 0;

  // For each key a replica waits on: whether an entry is there now, and
  // whether some replica still holds the lease. One round trip for all.
  struct WaitState {
    bool unavailable = true;
    bool entry_present = false;
    bool lease_held = false;
    bool bypass = false;  // the holder's answer could not be cached: fetch without waiting
    bool failed = false;  // the worker tier gave up on the key's job: nothing will be filled
  };
  virtual std::vector<WaitState> wait_states(const std::vector<std::string>& keys) = 0;

  // Stores a fill as one ordered step: the entry (unless a purge came after
  // lease.generation), its tags, the notice that wakes other replicas'
  // waiters, and the release of lease.token. Waiters see the value before the
  // notice.
  virtual FillResult store_fill(const std::string& key, const Entry& entry, const std::vector<std::string>& tags,
                                const Lease& lease) = 0;

  // The answer the lease holder got cannot be cached (no-store, private, too
  // large, a 404 without negative caching): for a while every replica calls
  // the origin for `key` at once instead of queueing behind the lease for a
  // fill that never comes; waiters are told now. Releases lease.token. The
  // next stored fill ends it.
  virtual void mark_uncacheable(const std::string& key, const Lease& lease) = 0;

  // The worker tier: a job holds the lease it was made under for as long as
  // a worker works on it. False when the lease is no longer `token`'s.
  virtual bool extend_lease(const std::string& key, const std::string& token, int64_t ttl_ms) = 0;
  // A job for `key` used up its attempts: its waiters, here and on every
  // replica, are told now and answer with a stale copy or an error instead
  // of waiting out their deadline. Releases lease.token. The next lease taken
  // for the key ends it.
  virtual void mark_failed(const std::string& key, const Lease& lease) = 0;

  // Removes `key`, or with `soft` only makes it stale (it keeps its stale
  // windows), and tells every replica. False when the store was unreachable.
  virtual bool purge(const std::string& key, bool soft) = 0;
  // The same for every key tagged `tag`, in batches; TagPurge::complete
  // says whether every tagged key was reached.
  virtual TagPurge purge_tag(const std::string& tag, bool soft) = 0;

  // Starts delivering other replicas' events to `handlers`, on a thread of
  // the implementation's; unsubscribe() stops it and returns once no handler
  // runs any more.
  virtual void subscribe(EventHandlers handlers) = 0;
  virtual void unsubscribe() = 0;
};

}  // namespace scalecache
