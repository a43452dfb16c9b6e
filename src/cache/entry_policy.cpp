#include "cache/entry_policy.hpp"

#include <algorithm>

#include "cache/entry_codec.hpp"
#include "cache/freshness.hpp"
#include "origin/cache_control.hpp"
#include "util/log.hpp"
#include "util/utf8.hpp"

namespace scalecache {
namespace {

int32_t clamp32(int64_t v) { return static_cast<int32_t>(std::clamp<int64_t>(v, 0, INT32_MAX)); }

// The body becomes a JSON string when served: make it valid UTF-8 once, here.
void take_body(Entry& entry, OriginResponse& response) {
  entry.data = valid_utf8(response.body) ? std::move(response.body) : to_valid_utf8(response.body);
  entry.meta.etag = content_hash(entry.data);
}

}  // namespace

EntryPolicy EntryPolicy::from(const CacheConfig& config) {
  return {config.ttl_seconds * 1000,         config.ttl_jitter,
          config.stale_while_revalidate,     config.stale_if_error,
          config.negative_ttl * 1000,        config.respect_origin_headers,
          config.store_private_and_no_store, static_cast<std::size_t>(config.max_object_bytes)};
}

std::optional<Entry> cacheable_entry(const std::string& key, OriginResponse& response, int64_t compute_ms,
                                     const EntryPolicy& policy, int64_t now_ms) {
  const bool found = response.status == OriginStatus::Ok;
  if (!found && policy.negative_ttl_ms <= 0) return std::nullopt;
  const OriginCachePolicy origin = parse_cache_control(response.cache_control);
  if ((origin.no_store || origin.is_private) && !policy.store_private_and_no_store) return std::nullopt;
  if (found && response.body.size() > policy.max_object_bytes) {
    log::debug("origin answer too large to cache", {{"bytes", std::to_string(response.body.size())}});
    return std::nullopt;
  }
  Entry entry;
  EntryMeta& meta = entry.meta;
  meta.stored_at_ms = now_ms;
  meta.compute_ms = clamp32(compute_ms);
  if (!found) {
    meta.negative = true;
    meta.fresh_until_ms = now_ms + policy.negative_ttl_ms;
    meta.etag = content_hash(entry.data);
    return entry;
  }
  int64_t ttl_ms = jittered_ttl_ms(key, policy.ttl_ms, policy.ttl_jitter);
  int64_t swr_s = policy.stale_while_revalidate_s;
  int64_t sie_s = policy.stale_if_error_s;
  if (policy.respect_origin_headers) {
    if (origin.no_cache) return std::nullopt;
    if (origin.max_age_s) {
      if (*origin.max_age_s == 0) return std::nullopt;  // stale at once: nothing worth keeping
      ttl_ms = *origin.max_age_s * 1000;
    }
    swr_s = origin.stale_while_revalidate_s.value_or(swr_s);
    sie_s = origin.stale_if_error_s.value_or(sie_s);
  }
  meta.fresh_until_ms = now_ms + ttl_ms;
  meta.stale_while_revalidate_s = clamp32(swr_s);
  meta.stale_if_error_s = clamp32(sie_s);
  take_body(entry, response);
  return entry;
}

Entry uncached_entry(OriginResponse& response, int64_t now_ms) {
  Entry entry;
  entry.meta.stored_at_ms = now_ms;
  entry.meta.fresh_until_ms = now_ms;  // not cached: no freshness to give
  const OriginCachePolicy origin = parse_cache_control(response.cache_control);
  entry.meta.downstream = origin.no_store     ? Downstream::NoStore
                          : origin.is_private ? Downstream::Private
                                              : Downstream::Shared;
  take_body(entry, response);
  return entry;
}

}  // namespace scalecache
