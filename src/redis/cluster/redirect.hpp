#pragma once
// The cluster's answers that mean "not here, not now": MOVED (the slot lives
// elsewhere for good: refresh the map), ASK (the slot is migrating: ask the
// target once, after ASKING), TRYAGAIN (a multi-key command met a migrating
// slot) and CLUSTERDOWN (the slot has no master for now, as during a
// failover): both retried, within the caller's time budget.

#include <optional>
#include <string_view>

#include "redis/redis_url.hpp"

namespace scalecache {

struct Redirect {
  enum class Kind { Moved, Ask, TryAgain, ClusterDown };
  Kind kind;
  int slot = -1;        // Moved, Ask
  RedisAddress target;  // Moved, Ask: host and port
};

// nullopt for any other text (a success, or an error that is final).
std::optional<Redirect> parse_redirect(std::string_view error_text);

}  // namespace scalecache
