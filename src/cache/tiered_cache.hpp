#pragma once
// The read path behind GET /data/{key}: L1, then Redis (L2), then the origin,
// filling Redis and L1 on the way back. Only the L1 lookup runs on the
// caller's thread; Redis reads run on the L2 pool and origin calls on the
// origin pool, so an HTTP reactor thread never blocks. Concurrent misses
// for one key share a single fetch (single-flight).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cache/entry.hpp"
#include "cache/l1_cache.hpp"
#include "cache/single_flight.hpp"
#include "metrics/metrics.hpp"
#include "origin/origin.hpp"
#include "redis/redis_store.hpp"
#include "util/worker_pool.hpp"

namespace scalecache {

struct FetchResult {
  enum class Status { Ok, NotFound, OriginError, OriginTimeout, Overloaded };
  Status status = Status::OriginError;
  CacheSource source = CacheSource::Origin;  // where an Ok answer came from
  std::shared_ptr<const Entry> entry;        // set when Ok; shared by every waiter
  std::string detail;                        // why, when not Ok
};

class TieredCache {
 public:
  struct Options {
    int64_t ttl_ms = 300000;
    int64_t l1_ttl_ms = 60000;
    std::size_t max_object_bytes = 1u << 20;
    std::size_t l2_threads = 4;
    std::size_t l2_max_queue = 4096;
    std::size_t origin_threads = 64;
    std::size_t origin_max_queue = 1024;
  };
  using Done = std::function<void(const FetchResult&)>;

  // `l2` may be null: the cache then runs on L1 and the origin alone.
  TieredCache(Options options, L1Cache& l1, RedisStore* l2, Origin& origin, Metrics& metrics);
  ~TieredCache();

  // Fast path, on the caller's thread: fn(L1EntryView) if L1 holds `key`.
  template <typename Fn>
  bool lookup_l1(std::string_view key, Fn&& fn) {
    return l1_.visit(key, wall_clock_ms(), std::forward<Fn>(fn));
  }

  // Slow path: `done` is called exactly once, from a pool thread, or at once
  // on the caller's thread when the queues are full (Status::Overloaded).
  void fetch(const std::string& key, Done done);

  // Removes `key` from L1 at once and from Redis on the L2 pool; `done(true)`
  // when Redis confirmed (or there is no Redis), false when it could not be reached.
  void purge(const std::string& key, std::function<void(bool)> done);

  // Finishes queued work and joins the pools. Call before destroying anything
  // a Done callback touches.
  void stop();

 private:
  void read_l2(const std::string& key);
  void call_origin(const std::string& key);
  void start_origin_call(const std::string& key);
  void fill_l1(const std::string& key, const Entry& entry);
  void guarded(const std::string& key, const std::function<void()>& step);

  const Options options_;
  L1Cache& l1_;
  RedisStore* l2_;
  Origin& origin_;
  Metrics& metrics_;
  SingleFlight<FetchResult> flights_;
  WorkerPool l2_pool_;
  WorkerPool origin_pool_;
};

}  // namespace scalecache
