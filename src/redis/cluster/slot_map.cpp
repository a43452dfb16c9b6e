#include "redis/cluster/slot_map.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <string_view>

namespace scalecache {

std::size_t SlotMap::slots_covered() const {
  return static_cast<std::size_t>(std::count_if(owner.begin(), owner.end(), [](int16_t o) { return o != kNoOwner; }));
}

std::optional<SlotMap> parse_cluster_slots(const redisReply& reply, const RedisAddress& asked) {
  if (reply.type != REDIS_REPLY_ARRAY) return std::nullopt;
  SlotMap map;
  // Each range: [first slot, last slot, [master host, port, id, ...], [replica ...]...].
  for (std::size_t i = 0; i < reply.elements; ++i) {
    const redisReply& range = *reply.element[i];
    if (range.type != REDIS_REPLY_ARRAY || range.elements < 3) return std::nullopt;
    const redisReply& first = *range.element[0];
    const redisReply& last = *range.element[1];
    const redisReply& node = *range.element[2];
    if (first.type != REDIS_REPLY_INTEGER || last.type != REDIS_REPLY_INTEGER || node.type != REDIS_REPLY_ARRAY ||
        node.elements < 2 || node.element[0]->type != REDIS_REPLY_STRING ||
        node.element[1]->type != REDIS_REPLY_INTEGER) {
      return std::nullopt;
    }
    if (first.integer < 0 || last.integer >= kClusterSlots || first.integer > last.integer) return std::nullopt;
    RedisAddress master;
    master.host.assign(node.element[0]->str, node.element[0]->len);
    if (master.host.empty() || master.host == "?") master.host = asked.host;
    master.port = static_cast<int>(node.element[1]->integer);
    auto known = std::find_if(map.masters.begin(), map.masters.end(),
                              [&](const RedisAddress& m) { return m.host == master.host && m.port == master.port; });
    if (known == map.masters.end()) {
      map.masters.push_back(master);
      known = map.masters.end() - 1;
    }
    const auto index = static_cast<int16_t>(known - map.masters.begin());
    std::fill(map.owner.begin() + first.integer, map.owner.begin() + last.integer + 1, index);
  }
  return map;
}

}  // namespace scalecache
