#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cache/entry.hpp"
#include "cache/vocabulary.hpp"

namespace scalecache {

// What a request is answered with; rendered by the HTTP layer.
struct Answer {
  enum class Kind { Data, NotFound, OriginError, OriginTooLarge, OriginTimeout, Overloaded };
  Kind kind = Kind::OriginError;
  CacheSource source = CacheSource::Origin;  // for Data and a cached NotFound
  std::shared_ptr<const Entry> entry;        // set for Data and a cached NotFound
  std::optional<StaleReason> stale;          // served past its TTL, and why
  bool collapsed = false;                    // waited for a fetch started by another request
  bool stored = false;                       // the origin's answer was just cached
  std::string detail;                        // why, for errors
};

}  // namespace scalecache
