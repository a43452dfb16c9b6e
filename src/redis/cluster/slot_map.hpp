#pragma once
// Which master serves each of the 16384 slots: the answer to CLUSTER SLOTS,
// kept as a flat table so routing a key costs one CRC16 and one array read.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "redis/cluster/key_slot.hpp"
#include "redis/redis_url.hpp"

struct redisReply;

namespace scalecache {

struct SlotMap {
  static constexpr int16_t kNoOwner = -1;

  std::vector<RedisAddress> masters;           // host and port only: credentials are added per connection
  std::array<int16_t, kClusterSlots> owner{};  // index into masters, or kNoOwner

  SlotMap() { owner.fill(kNoOwner); }
  const RedisAddress* master_of(int slot) const {
    const int16_t at = owner[static_cast<std::size_t>(slot)];
    return at == kNoOwner ? nullptr : &masters[static_cast<std::size_t>(at)];
  }
  std::size_t slots_covered() const;
};

// A CLUSTER SLOTS reply → the map; nullopt when it is not one. A master
// announced without an address ("" or "?") is the node that was asked
// (`asked`), as Redis documents for its own endpoint.
std::optional<SlotMap> parse_cluster_slots(const redisReply& reply, const RedisAddress& asked);

}  // namespace scalecache
