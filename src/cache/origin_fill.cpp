#include "cache/origin_fill.hpp"

#include <chrono>

namespace scalecache {

OriginFill::OriginFill(const EntryPolicy& policy, L1Cache& l1, SharedTier* tier, Origin& origin, Metrics& metrics,
                       const TimeSource& time)
    : policy_(policy), l1_(l1), tier_(tier), origin_(origin), metrics_(metrics), time_(time) {}

OriginFill::Result OriginFill::run(const std::string& key, SharedTier::Lease& lease, int64_t deadline_ms) {
  const int64_t budget_ms = deadline_ms - time_.now_ms();
  const auto started = std::chrono::steady_clock::now();
  OriginResponse response =
      budget_ms > 0 ? origin_.fetch(key, std::chrono::milliseconds(budget_ms))
                    : OriginResponse::failed(OriginStatus::Timeout, "no time left before the request's deadline");
  const int64_t took_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  metrics_.origin_result(response.status);

  Result result;
  result.status = response.status;
  result.detail = std::move(response.detail);
  result.too_large = response.too_large;
  if (response.too_large) mark_uncacheable(key, lease);
  if (response.status != OriginStatus::Ok && response.status != OriginStatus::NotFound) return result;

  const int64_t now = time_.now_ms();
  if (std::optional<Entry> entry = cacheable_entry(key, response, took_ms, policy_, now)) {
    // The shared tier first, so a replica asked right after this answer finds it there.
    SharedTier::FillOutcome outcome = SharedTier::FillOutcome::Failed;
    if (tier_ != nullptr) {
      const SharedTier::FillResult filled = tier_->store_fill(key, *entry, response.tags, lease);
      outcome = filled.outcome;
      if (outcome == SharedTier::FillOutcome::Stored) metrics_.invalidation_sent();
      // Otherwise the caller releases it again (only our own lease is ever
      // deleted, so that is safe), rather than leaving other replicas
      // waiting out the lease TTL.
      if (filled.lease_released) lease.token.clear();
    }
    // A purge since the fetch began wins: the answer is served once, kept nowhere.
    result.stored = outcome != SharedTier::FillOutcome::Superseded;
    if (result.stored) fill_l1(key, *entry);
    result.entry = std::make_shared<const Entry>(std::move(*entry));
  } else {
    mark_uncacheable(key, lease);
    if (response.status == OriginStatus::Ok)
      result.entry = std::make_shared<const Entry>(uncached_entry(response, now));
  }
  return result;
}

void OriginFill::mark_uncacheable(const std::string& key, SharedTier::Lease& lease) {
  if (tier_ == nullptr) return;
  tier_->mark_uncacheable(key, lease);
  lease.token.clear();  // released there (or it runs out: only ours is ever deleted)
}

void OriginFill::fill_l1(const std::string& key, const Entry& entry) {
  l1_.put(key, entry.meta, entry.data, time_.now_ms());
}

}  // namespace scalecache
