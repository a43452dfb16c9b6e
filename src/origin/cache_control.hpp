#pragma once
// The parts of an origin's Cache-Control header (RFC 9111 §5.2.2, RFC 5861)
// that scalecache reads. no-store and private always count (a shared cache
// must not store such answers, RFC 9111 §3); the others only when
// cache.respect_origin_headers is on.

#include <cstdint>
#include <optional>
#include <string_view>

namespace scalecache {

struct OriginCachePolicy {
  bool no_store = false;             // no-store: no cache may keep it (§5.2.2.5)
  bool is_private = false;           // private, with or without field names: no shared cache may keep it (§5.2.2.7)
  bool no_cache = false;             // no-cache: each reuse needs revalidation, which scalecache does not do
  std::optional<int64_t> max_age_s;  // s-maxage wins over max-age (we are a shared cache)
  std::optional<int64_t> stale_while_revalidate_s;
  std::optional<int64_t> stale_if_error_s;
};

// Unknown directives and malformed values are ignored, as RFC 9111 asks.
OriginCachePolicy parse_cache_control(std::string_view header);

}  // namespace scalecache
