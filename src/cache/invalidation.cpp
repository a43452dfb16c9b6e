#include "cache/invalidation.hpp"

#include <memory>

namespace scalecache {

Invalidation::Invalidation(L1Cache& l1, SharedTier* tier, FillWaiter* waiter, WorkerPool& l2_pool, Metrics& metrics,
                           const TimeSource& time, L2Presence* presence)
    : l1_(l1), tier_(tier), waiter_(waiter), l2_pool_(l2_pool), metrics_(metrics), time_(time), presence_(presence) {}

void Invalidation::drop_here(const std::string& key, bool soft, int64_t now_ms) {
  if (presence_ != nullptr) presence_->forget(key);
  if (soft) {
    l1_.mark_stale(key, now_ms);
  } else {
    l1_.erase(key);
  }
}

void Invalidation::purge(const std::string& key, bool soft, std::function<void(bool)> done) {
  metrics_.purge(soft ? PurgeKind::Soft : PurgeKind::Key);
  drop_here(key, soft, time_.now_ms());
  if (tier_ == nullptr) {
    done(true);
    return;
  }
  auto shared_done = std::make_shared<std::function<void(bool)>>(std::move(done));
  const bool queued = l2_pool_.submit([this, key, soft, shared_done] {
    const bool ok = tier_->purge(key, soft);
    if (ok) metrics_.invalidation_sent();
    (*shared_done)(ok);
  });
  if (!queued) (*shared_done)(false);
}

void Invalidation::purge_tag(const std::string& tag, bool soft, std::function<void(bool, std::size_t)> done) {
  metrics_.purge(PurgeKind::Tag);
  if (tier_ == nullptr) {
    done(false, 0);  // tags live in the shared tier only
    return;
  }
  auto shared_done = std::make_shared<std::function<void(bool, std::size_t)>>(std::move(done));
  const bool queued = l2_pool_.submit([this, tag, soft, shared_done] {
    const SharedTier::TagPurge purged = tier_->purge_tag(tag, soft);
    const int64_t now = time_.now_ms();
    for (const std::string& key : purged.keys) drop_here(key, soft, now);
    for (std::size_t i = 0; i < purged.notices_sent; ++i) metrics_.invalidation_sent();
    (*shared_done)(purged.complete, purged.keys.size());
  });
  if (!queued) (*shared_done)(false, 0);
}

void Invalidation::on_event(CacheEvent event, const std::string& key, int64_t stamp) {
  metrics_.invalidation_received();
  switch (event) {
    case CacheEvent::Filled:
      // Another replica stored an answer: drop ours if it is older, so the
      // next read takes the new one from the shared tier, and wake anyone waiting for it.
      l1_.erase_if_older(key, stamp);
      if (waiter_ != nullptr) waiter_->notify_filled(key);
      return;
    case CacheEvent::Purged: drop_here(key, false, time_.now_ms()); return;
    case CacheEvent::MarkedStale: drop_here(key, true, time_.now_ms()); return;
    case CacheEvent::Uncacheable:  // nothing will be filled: waiters call the origin themselves
    case CacheEvent::Failed:       // the worker tier gave up: waiters answer stale or an error
      if (waiter_ != nullptr) waiter_->notify_filled(key);
      return;
  }
}

}  // namespace scalecache
