#pragma once
// How an origin answer becomes a cache entry: its TTL (jittered per key),
// its stale windows, negative caching of 404s, the size limit, the origin's
// private and no-store (never stored, RFC 9111 §3, unless overridden) and the
// rest of its Cache-Control when the configuration says to honour it. The one
// place an Entry is made from an OriginResponse.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "cache/entry.hpp"
#include "config/config.hpp"
#include "origin/origin.hpp"

namespace scalecache {

struct EntryPolicy {
  int64_t ttl_ms;
  double ttl_jitter;
  int64_t stale_while_revalidate_s;
  int64_t stale_if_error_s;
  int64_t negative_ttl_ms;  // 0: 404s are not cached
  bool respect_origin_headers;
  bool store_private_and_no_store;
  std::size_t max_object_bytes;

  static EntryPolicy from(const CacheConfig& config);
};

// The entry to cache for `response` (an Ok or NotFound answer that took
// `compute_ms`), or nullopt when it must not be cached; then `response` is
// left untouched. Otherwise its body has moved into the entry.
std::optional<Entry> cacheable_entry(const std::string& key, OriginResponse& response, int64_t compute_ms,
                                     const EntryPolicy& policy, int64_t now_ms);

// An Ok answer that is served once but not cached: fresh for no time at all,
// and marked for downstream caches as its origin marked it (private, no-store).
Entry uncached_entry(OriginResponse& response, int64_t now_ms);

}  // namespace scalecache
