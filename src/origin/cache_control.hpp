#pragma once
// The parts of an origin's Cache-Control header (RFC 9111 §5.2.2, RFC 5861)
// that scalecache honours when cache.respect_origin_headers is on.

#include <cstdint>
#include <optional>
#include <string_view>

namespace scalecache {

struct OriginCachePolicy {
  bool no_store = false;                // no-store, private or no-cache: serve, don't keep
  std::optional<int64_t> max_age_s;     // s-maxage wins over max-age (we are a shared cache)
  std::optional<int64_t> stale_while_revalidate_s;
  std::optional<int64_t> stale_if_error_s;
};

// Unknown directives and malformed values are ignored, as RFC 9111 asks.
OriginCachePolicy parse_cache_control(std::string_view header);

}  // namespace scalecache
