#pragma once
// Asking a cluster node for the slot map (CLUSTER SLOTS), on a connection
// opened for it: topology is read rarely (start, MOVED, a failing node, a
// periodic check), so it never takes a pooled connection from a request.

#include <cstdint>
#include <optional>
#include <string>

#include "redis/cluster/slot_map.hpp"
#include "redis/redis_url.hpp"

namespace scalecache {

// nullopt with `error` set when the node could not be reached, refused, or
// answered with no slots (a node not in a cluster, or one that lost it).
std::optional<SlotMap> fetch_slot_map(const RedisAddress& node, const std::string& password, int64_t connect_timeout_ms,
                                      int64_t timeout_ms, std::string& error);

}  // namespace scalecache
