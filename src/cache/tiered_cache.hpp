#pragma once
// The read path behind GET /data/{key}: L1, then the shared tier (L2), then
// the origin, filling both on the way back. Only the L1 step runs on the
// caller's thread; L2 work runs on the L2 pool and origin calls on the
// origin pool, so an HTTP reactor thread never blocks.
//
// One origin call per key for the whole fleet: concurrent misses inside a
// replica share one fetch (SingleFlight); across replicas the fetching one
// holds the fleet lease and the others wait for its fill (FillWaiter).
// Entries live on past their TTL as the freshness policy says
// (cache/freshness.hpp, docs/cache-semantics.md): refreshes run in the
// background (Refresher); purges and other replicas' events go through
// Invalidation.
//
// With a job queue (origin.kind: queue) the replica never calls the origin:
// the miss that takes the fleet lease hands it to a job for the worker tier
// and then waits for the fill like every other waiter (queue/job_queue.hpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/answer.hpp"
#include "cache/entry_policy.hpp"
#include "cache/fill_waiter.hpp"
#include "cache/freshness.hpp"
#include "cache/invalidation.hpp"
#include "cache/l1_cache.hpp"
#include "cache/l2_presence.hpp"
#include "cache/l2_read_batcher.hpp"
#include "cache/origin_fill.hpp"
#include "cache/refresher.hpp"
#include "cache/shared_tier.hpp"
#include "cache/single_flight.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "origin/origin.hpp"
#include "queue/job_queue.hpp"
#include "util/clock.hpp"
#include "util/worker_pool.hpp"

namespace scalecache {

class TieredCache {
 public:
  struct Options {
    EntryPolicy entry;
    double early_refresh_beta;  // XFetch; 0 turns early refresh off
    int64_t lease_wait_ms;      // how long a miss waits for another replica's fill (queue.wait_ms with a queue)
    int64_t lease_poll_ms;
    int64_t origin_timeout_ms;  // one origin call, at most
    // One absolute deadline per miss, from its start: lease waits, takeovers
    // and the origin call all fit in it, and it ends before the server's own
    // request timeout would answer 408 (a stale copy or a 504 instead).
    int64_t fetch_budget_ms;
    std::size_t l2_threads;
    std::size_t l2_max_queue;
    std::size_t origin_threads;
    std::size_t origin_max_queue;
    int64_t lease_ttl_ms;  // a job not picked up within its lease's life is given up on
    TimeSource time;

    static Options from(const Config& config);
  };
  using Done = std::function<void(const Answer&)>;

  // `tier` may be null: the cache then runs on L1 and the origin alone.
  // `queue` set (it needs `tier`): misses become jobs, `origin` is never called.
  TieredCache(Options options, L1Cache& l1, SharedTier* tier, Origin& origin, Metrics& metrics,
              JobQueue* queue = nullptr);
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

  Invalidation& invalidation() { return invalidation_; }

  std::size_t l2_queued() const { return l2_pool_.queued(); }
  std::size_t origin_queued() const { return origin_pool_.queued(); }

  // Finishes queued work and joins the pools. Call before destroying anything
  // a Done callback touches.
  void stop();

 private:
  struct Fetch;  // one leader's progress through L2, lease and origin

  void on_l2_read(const std::shared_ptr<Fetch>& fetch, SharedTier::Lookup lookup);
  // A read that found nothing servable: the lease step's outcome if the
  // read ran it, else the lease step when an origin thread is free.
  void miss_after_read(const std::shared_ptr<Fetch>& fetch, std::optional<LeaseOutcome> outcome);
  void lease_then_origin(const std::shared_ptr<Fetch>& fetch);
  // Takes the fleet lease: true when this replica calls the origin now; false
  // when the miss waits for another replica's fill (or its deadline passed:
  // then it is answered already).
  bool lease_or_wait(const std::shared_ptr<Fetch>& fetch);
  // What to do with a lease step's outcome, as lease_or_wait returns.
  bool after_lease(const std::shared_ptr<Fetch>& fetch, LeaseOutcome outcome);

  void wait_for_fill(const std::shared_ptr<Fetch>& fetch);
  void on_fill_wait(const std::shared_ptr<Fetch>& fetch, FillWaiter::Outcome outcome, std::optional<Entry> entry);
  // The queue's lease step: a job for the lease taken, or a wait for the job that holds it.
  void to_queue(const std::shared_ptr<Fetch>& fetch, LeaseOutcome outcome);
  void call_origin(const std::shared_ptr<Fetch>& fetch);
  // An origin error or timeout (or a deadline passed): a stale copy if there is one, else the error.
  void answer_failure(const std::shared_ptr<Fetch>& fetch, OriginStatus status, std::string detail,
                      bool too_large = false);
  // A copy past its TTL that may stand in for an origin error, from L1 or the fetch's L2 read.
  std::shared_ptr<const Entry> stale_stand_in(const std::shared_ptr<Fetch>& fetch) const;
  void finish(const std::shared_ptr<Fetch>& fetch, const Answer& answer);
  // Releases the fleet lease the fetch holds, if any.
  void give_back_lease(const std::shared_ptr<Fetch>& fetch);
  using Step = void (TieredCache::*)(const std::shared_ptr<Fetch>&);
  // Runs `step` on `pool`; a full queue answers 503.
  void submit(WorkerPool& pool, const std::shared_ptr<Fetch>& fetch, Step step, bool reserved = false);
  // The lease step, then the origin, each when an origin thread can take it.
  void to_origin(const std::shared_ptr<Fetch>& fetch);
  void guarded(const std::shared_ptr<Fetch>& fetch, const std::function<void()>& step);
  bool refresh_early(const EntryMeta& meta, int64_t now_ms) const;

  const Options options_;
  L1Cache& l1_;
  SharedTier* tier_;
  Metrics& metrics_;
  JobQueue* queue_;
  WorkerPool l2_pool_;
  WorkerPool origin_pool_;
  SingleFlight<Answer> flights_;
  OriginFill fill_;
  std::unique_ptr<FillWaiter> waiter_;
  L2Presence presence_;
  std::unique_ptr<L2ReadBatcher> reads_;
  Refresher refresher_;
  Invalidation invalidation_;
};

template <typename Render>
bool TieredCache::answer_from_l1(std::string_view key, Render&& render) {
  const int64_t now = options_.time.now_ms();
  std::optional<Refresher::Trigger> trigger;
  int64_t stored_at = 0;
  bool answered = false;
  l1_.visit(key, now, [&](const L1EntryView& view) {
    // Past its recheck time L1 answers nothing, stale or fresh: that bounds
    // how long a replica that missed a purge notice serves the purged copy.
    if (now >= view.recheck_at_ms) return;
    const Freshness freshness = classify(view.meta, now);
    if (freshness == Freshness::Fresh) {
      render(view, std::optional<StaleReason>{});
      answered = true;
      if (!view.meta.negative && refresh_early(view.meta, now)) trigger = Refresher::Trigger::Early;
    } else if (freshness == Freshness::Revalidate && !view.meta.negative) {
      render(view, std::optional<StaleReason>{StaleReason::Revalidate});
      answered = true;
      trigger = Refresher::Trigger::Stale;
    }
    stored_at = view.meta.stored_at_ms;
  });
  if (trigger) refresher_.refresh(std::string(key), stored_at, *trigger);
  return answered;
}

}  // namespace scalecache
