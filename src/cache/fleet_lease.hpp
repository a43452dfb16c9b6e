#pragma once
// Fleet-wide single-flight: before calling the origin for a key, a replica
// takes a short Redis lease (SET NX PX with a random token). Only the holder
// calls the origin; it releases the lease with a compare-and-delete script,
// so a lease that expired and was taken by another replica is never deleted
// by mistake. On a single Redis this is advisory, which is enough here: a
// violation costs one extra origin call, never a wrong answer.

#include <cstdint>
#include <string>

#include "redis/redis_store.hpp"

namespace scalecache {

class FleetLease {
 public:
  enum class Outcome { Acquired, HeldElsewhere, Unavailable };

  FleetLease(RedisStore& store, int64_t ttl_ms) : store_(store), ttl_ms_(ttl_ms) {}

  // On Acquired, `token` is what release() needs.
  Outcome acquire(const std::string& key, std::string& token);
  void release(const std::string& key, const std::string& token);
  // The same release, for a caller that sends it in a pipeline with other commands.
  RedisStore::Command release_command(const std::string& key, const std::string& token) const;
  // Whether some replica holds the lease (false too when Redis is unreachable).
  bool held(const std::string& key);

  static std::string lease_key(const std::string& key);

 private:
  RedisStore& store_;
  const int64_t ttl_ms_;
};

}  // namespace scalecache
