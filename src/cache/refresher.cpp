#include "cache/refresher.hpp"

#include "cache/fleet_lease.hpp"
#include "cache/freshness.hpp"
#include "util/log.hpp"
#include "util/random_token.hpp"

namespace scalecache {

Refresher::Refresher(SharedTier* tier, OriginFill& fill, WorkerPool& l2_pool, WorkerPool& origin_pool, Metrics& metrics,
                     const TimeSource& time, int64_t origin_timeout_ms, JobQueue* queue, int64_t lease_ttl_ms)
    : tier_(tier),
      fill_(fill),
      l2_pool_(l2_pool),
      origin_pool_(origin_pool),
      metrics_(metrics),
      time_(time),
      origin_timeout_ms_(origin_timeout_ms),
      queue_(queue),
      lease_ttl_ms_(lease_ttl_ms) {}

template <typename Step>
bool Refresher::submit(WorkerPool& pool, const std::string& key, Step step) {
  return pool.submit([this, key, step = std::move(step)]() mutable {
    try {
      if (step()) return;
    } catch (const std::exception& e) {
      log::error("refresh failed", {{"error", e.what()}});
    }
    running_.complete(key, true);
  });
}

void Refresher::refresh(const std::string& key, int64_t known_stored_at_ms, Trigger trigger) {
  if (!running_.join(key, [](const bool&) {})) return;  // already refreshing here
  if (trigger == Trigger::Early) metrics_.early_refresh();
  const bool queued =
      tier_ != nullptr
          ? submit(l2_pool_, key, [this, key, known_stored_at_ms] { return lease_step(key, known_stored_at_ms); })
          : submit(origin_pool_, key, [this, key] { return origin_step(key, {}); });
  if (!queued) running_.complete(key, false);
}

bool Refresher::lease_step(const std::string& key, int64_t known_stored_at_ms) {
  if (refreshed_elsewhere(key, known_stored_at_ms)) return false;
  SharedTier::Lease lease;
  if (take_fleet_lease(*tier_, key, lease, metrics_) == LeaseOutcome::HeldElsewhere) {
    return false;  // that replica refreshes for everyone
  }
  if (queue_ != nullptr) {
    // The job takes the lease along; a job that cannot be queued gives it
    // back. Without a lease (Redis down, an uncacheable key) there is no job.
    if (lease.token.empty()) return false;
    const int64_t now = time_.now_ms();
    if (queue_->enqueue({key, 1, now + lease_ttl_ms_, random_token(), lease, now}) != JobQueue::Enqueued::Queued) {
      tier_->release_lease(key, lease.token);
    }
    return false;
  }
  if (submit(origin_pool_, key, [this, key, lease] { return origin_step(key, lease); })) return true;
  tier_->release_lease(key, lease.token);
  return false;
}

bool Refresher::origin_step(const std::string& key, SharedTier::Lease lease) {
  // A failed refresh leaves the current entry alone: it keeps being served
  // stale until its windows end.
  fill_.run(key, lease, time_.now_ms() + origin_timeout_ms_);
  if (tier_ != nullptr) tier_->release_lease(key, lease.token);  // still set if the fill did not release it
  return false;
}

bool Refresher::refreshed_elsewhere(const std::string& key, int64_t known_stored_at_ms) {
  SharedTier::Read got = tier_->read_one(key);
  if (!got.entry || got.entry->meta.stored_at_ms <= known_stored_at_ms ||
      classify(got.entry->meta, time_.now_ms()) != Freshness::Fresh) {
    return false;
  }
  fill_.fill_l1(key, *got.entry);
  return true;
}

}  // namespace scalecache
