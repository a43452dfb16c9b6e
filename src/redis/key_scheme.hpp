#pragma once
// Where scalecache keeps things in Redis. Every name starts with the
// configured prefix (redis.key_prefix), so deployments can share a Redis:
//
//   <prefix>v:<key>   the entry, in the entry_codec layout; PX = its retention
//   <prefix>l:<key>   the fleet lease: a random token; PX = cache.lease_ttl_ms
//   <prefix>g:<key>   the key's purge generation: INCR by every purge, read when a
//                     fetch takes the lease, checked by its fill; PX = kGenerationKeepMs
//   <prefix>t:<tag>   the set of keys whose origin answers carried <tag>
//   <prefix>p:<key>   "bypass": the key's last answer could not be cached, so
//                     replicas call the origin without the lease; PX = kBypassKeepMs
//   <prefix>x:<key>   "failed": the worker tier gave up on the key's job (dead
//                     letter); waiters answer stale or 502; PX = kFailedKeepMs,
//                     and the next lease taken for the key ends it
//   <prefix>events    the pub/sub channel of cache events
//   <prefix>jobs      the worker tier's job stream (consumer group "workers")
//   <prefix>jobs:tries  hash: origin calls made per job entry id, crashed ones included
//   <prefix>jobs:dead   the dead-letter stream: jobs that used up worker.max_attempts
//
// Nothing outside src/redis/ builds these names.

#include <string>
#include <string_view>

namespace scalecache {

class KeyScheme {
 public:
  explicit KeyScheme(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string value(std::string_view key) const { return join("v:", key); }
  std::string lease(std::string_view key) const { return join("l:", key); }
  std::string generation(std::string_view key) const { return join("g:", key); }
  std::string tag(std::string_view tag) const { return join("t:", tag); }
  std::string bypass(std::string_view key) const { return join("p:", key); }
  std::string failed(std::string_view key) const { return join("x:", key); }
  std::string events_channel() const { return join("events", {}); }
  std::string jobs() const { return join("jobs", {}); }
  std::string job_tries() const { return join("jobs:tries", {}); }
  std::string dead_jobs() const { return join("jobs:dead", {}); }

 private:
  std::string join(std::string_view kind, std::string_view name) const {
    std::string out;
    out.reserve(prefix_.size() + kind.size() + name.size());
    out.append(prefix_).append(kind).append(name);
    return out;
  }

  const std::string prefix_;
};

}  // namespace scalecache
