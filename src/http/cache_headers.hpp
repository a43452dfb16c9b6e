#pragma once
// The HTTP caching headers of a /data answer: ETag, Age, Cache-Control and
// Cache-Status (RFC 9211), and If-None-Match matching (RFC 9110 §13.1.2).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cache/entry.hpp"
#include "cache/vocabulary.hpp"

namespace scalecache {

struct CacheHeaders {
  std::string etag;
  std::string age;
  std::string cache_control;
  std::string cache_status;
};

// How the answer was produced, for Cache-Status.
struct CacheOutcome {
  CacheSource source = CacheSource::Origin;
  std::optional<StaleReason> stale;
  bool collapsed = false;
  bool stored = false;
};

CacheHeaders cache_headers(const EntryMeta& meta, const CacheOutcome& outcome, int64_t now_ms);

// `"<16 hex digits>"`
std::string etag_value(uint64_t etag);

// True when an If-None-Match header value matches `etag` (weak comparison,
// "*" matches anything).
bool if_none_match(std::string_view header, std::string_view etag);

}  // namespace scalecache
