#include "redis/cluster/topology.hpp"

#include <hiredis/hiredis.h>

#include <memory>

#include "redis/redis_connection.hpp"

namespace scalecache {

std::optional<SlotMap> fetch_slot_map(const RedisAddress& node, const std::string& password, int64_t connect_timeout_ms,
                                      int64_t timeout_ms, std::string& error) {
  std::unique_ptr<redisContext, decltype(&redisFree)> c(
      connect_redis(node, password, connect_timeout_ms, timeout_ms, error), &redisFree);
  if (!c) return std::nullopt;
  const std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
      static_cast<redisReply*>(redisCommand(c.get(), "CLUSTER SLOTS")), &freeReplyObject);
  if (!reply || c->err != 0) {
    error = c->errstr;
    return std::nullopt;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    error = "CLUSTER SLOTS refused: " + std::string(reply->str, reply->len);
    return std::nullopt;
  }
  std::optional<SlotMap> map = parse_cluster_slots(*reply, node);
  if (!map || map->slots_covered() == 0) {
    error = "CLUSTER SLOTS answered no slots";
    return std::nullopt;
  }
  return map;
}

}  // namespace scalecache
