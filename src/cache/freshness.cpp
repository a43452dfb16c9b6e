#include "cache/freshness.hpp"

#include <algorithm>
#include <cmath>

#include "cache/entry_codec.hpp"

namespace scalecache {

Freshness classify(const EntryMeta& meta, int64_t now_ms) {
  if (now_ms < meta.fresh_until_ms) return Freshness::Fresh;
  const int64_t past = now_ms - meta.fresh_until_ms;
  if (past < int64_t{meta.stale_while_revalidate_s} * 1000) return Freshness::Revalidate;
  if (past < int64_t{meta.stale_if_error_s} * 1000) return Freshness::StaleIfError;
  return Freshness::Gone;
}

int64_t servable_until_ms(const EntryMeta& meta) {
  return meta.negative ? meta.fresh_until_ms : meta.fresh_until_ms + int64_t{meta.stale_while_revalidate_s} * 1000;
}

int64_t keep_until_ms(const EntryMeta& meta) {
  return meta.fresh_until_ms + int64_t{std::max(meta.stale_while_revalidate_s, meta.stale_if_error_s)} * 1000;
}

int64_t retention_ms(const EntryMeta& meta, int64_t now_ms) {
  return std::max<int64_t>(0, keep_until_ms(meta) - now_ms);
}

bool should_refresh_early(const EntryMeta& meta, int64_t now_ms, double beta, double u) {
  if (beta <= 0 || meta.compute_ms <= 0 || now_ms >= meta.fresh_until_ms) return false;
  // -ln(u) is exponentially distributed: usually small, occasionally large,
  // so refreshes spread out and become certain only as expiry arrives.
  const double lead_ms = static_cast<double>(meta.compute_ms) * beta * -std::log(u);
  return static_cast<double>(now_ms) + lead_ms >= static_cast<double>(meta.fresh_until_ms);
}

int64_t jittered_ttl_ms(std::string_view key, int64_t ttl_ms, double jitter) {
  if (jitter <= 0) return ttl_ms;
  const double fraction = static_cast<double>(content_hash(key) % 10007) / 10007.0;  // [0,1)
  return std::max<int64_t>(1, ttl_ms - static_cast<int64_t>(static_cast<double>(ttl_ms) * jitter * fraction));
}

void mark_stale(EntryMeta& meta, int64_t now_ms) {
  meta.fresh_until_ms = std::min(meta.fresh_until_ms, now_ms);
  meta.stored_at_ms = std::min(meta.stored_at_ms, meta.fresh_until_ms);
}

}  // namespace scalecache
