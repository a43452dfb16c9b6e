#include "cache/fleet_lease.hpp"

#include "redis/event_bus.hpp"

namespace scalecache {
namespace {

constexpr const char* kReleaseScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

}  // namespace

std::string FleetLease::lease_key(const std::string& key) { return "l:" + key; }

FleetLease::Outcome FleetLease::acquire(const std::string& key, std::string& token) {
  token = random_token();
  const auto reply = store_.run({"SET", store_.namespaced(lease_key(key)), token, "NX", "PX", std::to_string(ttl_ms_)});
  if (reply.status == RedisStore::Status::Ok) return Outcome::Acquired;
  if (reply.status == RedisStore::Status::Miss) return Outcome::HeldElsewhere;  // NX refused: nil reply
  return Outcome::Unavailable;
}

RedisStore::Command FleetLease::release_command(const std::string& key, const std::string& token) const {
  return {"EVAL", kReleaseScript, "1", store_.namespaced(lease_key(key)), token};
}

void FleetLease::release(const std::string& key, const std::string& token) {
  if (token.empty()) return;
  store_.pipeline({release_command(key, token)});
}

bool FleetLease::held(const std::string& key) {
  const auto reply = store_.run({"EXISTS", store_.namespaced(lease_key(key))});
  return reply.status == RedisStore::Status::Ok && reply.integer > 0;
}

}  // namespace scalecache
