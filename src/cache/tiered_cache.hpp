#pragma once
// The read path behind GET /data/{key}: L1, then Redis (L2), then the origin,
// filling Redis and L1 on the way back. Only the L1 step runs on the
// caller's thread; Redis work runs on the L2 pool and origin calls on the
// origin pool, so an HTTP reactor thread never blocks.
//
// One origin call per key for the whole fleet: concurrent misses inside a
// replica share one fetch (SingleFlight); across replicas the fetching one
// holds a Redis lease (FleetLease) and the others wait for its fill
// (FillWaiter). Entries live on past their TTL as the freshness policy says
// (cache/freshness.hpp, docs/cache-semantics.md).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/entry.hpp"
#include "cache/fill_waiter.hpp"
#include "cache/fleet_lease.hpp"
#include "cache/freshness.hpp"
#include "cache/l1_cache.hpp"
#include "cache/single_flight.hpp"
#include "metrics/metrics.hpp"
#include "origin/origin.hpp"
#include "redis/event_bus.hpp"
#include "redis/redis_store.hpp"
#include "util/worker_pool.hpp"

namespace scalecache {

// What a request is answered with; rendered by the HTTP layer.
struct Answer {
  enum class Kind { Data, NotFound, OriginError, OriginTimeout, Overloaded };
  Kind kind = Kind::OriginError;
  CacheSource source = CacheSource::Origin;  // for Data and a cached NotFound
  std::shared_ptr<const Entry> entry;        // set for Data and a cached NotFound
  std::optional<StaleReason> stale;          // served past its TTL, and why
  bool collapsed = false;                    // waited for a fetch started by another request
  bool stored = false;                       // the origin's answer was just cached
  std::string detail;                        // why, for errors
};

class TieredCache {
 public:
  struct Options {
    int64_t ttl_ms = 300000;
    double ttl_jitter = 0.1;
    int64_t stale_while_revalidate_s = 60;
    int64_t stale_if_error_s = 300;
    double early_refresh_beta = 1.0;
    int64_t negative_ttl_ms = 10000;
    bool respect_origin_headers = false;
    std::size_t max_object_bytes = 1u << 20;
    int64_t lease_ttl_ms = 10000;
    int64_t lease_wait_ms = 5000;
    int64_t lease_poll_ms = 50;
    std::size_t l2_threads = 4;
    std::size_t l2_max_queue = 4096;
    std::size_t origin_threads = 64;
    std::size_t origin_max_queue = 1024;
    std::string events_channel = "scalecache:events";
    RedisAddress redis_address;  // for the event subscription
    std::string redis_password;
    int64_t redis_connect_timeout_ms = 200;
  };
  using Done = std::function<void(const Answer&)>;

  // `l2` may be null: the cache then runs on L1 and the origin alone.
  TieredCache(Options options, L1Cache& l1, RedisStore* l2, Origin& origin, Metrics& metrics);
  ~TieredCache();

  // Fast path, on the caller's thread. When L1 can answer (fresh, or stale
  // inside stale-while-revalidate) calls render(view, stale_reason) with the
  // entry locked and returns true; refreshes it starts run in the background.
  // Returns false when the request must go through fetch().
  template <typename Render>
  bool answer_from_l1(std::string_view key, Render&& render);

  // Slow path: `done` is called exactly once, from a pool thread, or at once
  // on the caller's thread when the queues are full (Kind::Overloaded).
  void fetch(const std::string& key, Done done);

  // Removes `key` (or with `soft`, marks it stale) in L1 at once and in Redis
  // and every replica's L1 through the L2 pool. done(true) once Redis
  // confirmed, or at once without Redis; done(false) if Redis was unreachable.
  void purge(const std::string& key, bool soft, std::function<void(bool)> done);
  // The same for every key the origin tagged with `tag`; done(ok, keys purged).
  void purge_tag(const std::string& tag, bool soft, std::function<void(bool, std::size_t)> done);

  // Finishes queued work and joins the pools. Call before destroying anything
  // a Done callback touches.
  void stop();

 private:
  struct Fetch;  // one leader's progress through L2, lease and origin
  enum class RefreshTrigger { Stale, Early };

  // Entry points of the steps, each run on a pool. Redis reads of concurrent
  // misses are queued and sent as one pipeline per L2 thread wake-up.
  void queue_l2_read(const std::shared_ptr<Fetch>& fetch);
  void drain_l2_reads();
  void on_l2_value(const std::shared_ptr<Fetch>& fetch, RedisStore::GetResult got);
  void lease_then_origin(const std::shared_ptr<Fetch>& fetch);
  void call_origin(const std::shared_ptr<Fetch>& fetch);
  void refresh(const std::string& key, int64_t known_stored_at_ms, RefreshTrigger trigger);
  // True (and L1 updated) when Redis already holds a newer fresh answer.
  bool refreshed_elsewhere(const std::string& key, int64_t known_stored_at_ms);
  void record_origin_result(OriginResponse::Status status);

  // Stores an origin answer in Redis, L1 and tag sets and tells other
  // replicas; returns the entry, or null when it must not be cached. When it
  // writes to Redis it also releases the fleet lease `lease_token` in the
  // same round trip, and clears the token once Redis confirms the release.
  std::shared_ptr<const Entry> store_origin_answer(const std::string& key, OriginResponse& response,
                                                    int64_t compute_ms, std::string& lease_token);
  void fill_l1(const std::string& key, const Entry& entry);
  void finish(const std::shared_ptr<Fetch>& fetch, Answer answer);
  void submit_origin(const std::shared_ptr<Fetch>& fetch);
  void guarded(const std::shared_ptr<Fetch>& fetch, const std::function<void()>& step);
  void mark_stale_in_l2(const std::string& key);
  void on_event(CacheEvent event, const std::string& key, int64_t stamp);
  bool refresh_early(const EntryMeta& meta, int64_t now_ms) const;

  static std::string value_key(const std::string& key) { return "v:" + key; }
  static std::string tag_key(const std::string& tag) { return "t:" + tag; }

  const Options options_;
  L1Cache& l1_;
  RedisStore* l2_;
  Origin& origin_;
  Metrics& metrics_;
  SingleFlight<Answer> flights_;
  std::mutex l2_reads_mutex_;
  std::vector<std::shared_ptr<Fetch>> l2_reads_;  // waiting for the next pipeline
  bool l2_drain_queued_ = false;
  SingleFlight<bool> refreshes_;
  std::unique_ptr<FleetLease> lease_;
  std::unique_ptr<FillWaiter> waiter_;
  std::unique_ptr<EventBus> events_;
  WorkerPool l2_pool_;
  WorkerPool origin_pool_;
};

template <typename Render>
bool TieredCache::answer_from_l1(std::string_view key, Render&& render) {
  const int64_t now = wall_clock_ms();
  std::optional<RefreshTrigger> trigger;
  int64_t stored_at = 0;
  bool answered = false;
  l1_.visit(key, now, [&](const L1EntryView& view) {
    const Freshness freshness = classify(view.meta, now);
    if (freshness == Freshness::Fresh && now < view.recheck_at_ms) {
      render(view, std::optional<StaleReason>{});
      answered = true;
      if (!view.meta.negative && refresh_early(view.meta, now)) trigger = RefreshTrigger::Early;
    } else if (freshness == Freshness::Revalidate && !view.meta.negative) {
      render(view, std::optional<StaleReason>{StaleReason::Revalidate});
      answered = true;
      trigger = RefreshTrigger::Stale;
    }
    stored_at = view.meta.stored_at_ms;
  });
  if (trigger) refresh(std::string(key), stored_at, *trigger);
  return answered;
}

}  // namespace scalecache
