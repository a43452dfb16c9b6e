#pragma once
// What the cache keeps for one key, in L1 and (encoded) in Redis.

#include <cstdint>
#include <string>

namespace scalecache {

// What caches after scalecache may do with an answer. An answer the origin
// marked private or no-store is never stored (unless
// cache.store_private_and_no_store says otherwise), so only entries that are
// served once are ever other than Shared and the entry codec leaves it out.
enum class Downstream : uint8_t { Shared, Private, NoStore };

// Times are milliseconds since the Unix epoch: replicas compare them, so
// they must be wall-clock, not steady-clock, values.
struct EntryMeta {
  int64_t stored_at_ms = 0;              // when the origin answered
  int64_t fresh_until_ms = 0;            // end of the TTL
  int32_t compute_ms = 0;                // how long the origin took (for early refresh)
  int32_t stale_while_revalidate_s = 0;  // this entry's windows past the TTL
  int32_t stale_if_error_s = 0;
  uint64_t etag = 0;                           // hash of the data, for ETag / If-None-Match
  bool negative = false;                       // the origin said 404: data is empty
  Downstream downstream = Downstream::Shared;  // not encoded: see Downstream
};

struct Entry {
  EntryMeta meta;
  std::string data;
};

}  // namespace scalecache
