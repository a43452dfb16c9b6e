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
// On a Redis Cluster (hash_tags) a key's value, lease, generation and bypass
// marker must share a slot, so the lease and fill scripts touch one slot and
// the fill stays one ordered step: the key becomes their hash tag,
// <prefix>v:{<key>}. A key that holds a brace itself would end its own tag
// early, so its tag is a hash of it instead: <prefix>v:{#<16 hex>}<key>.
// (A '#' starts no key the plain form gives, so the two never collide.)
// Tag sets and the channel keep their standalone names: a tag set is one
// key, and PUBLISH has none.
//
// Nothing outside src/redis/ builds these names.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace scalecache {

class KeyScheme {
 public:
  explicit KeyScheme(std::string prefix, bool hash_tags = false) : prefix_(std::move(prefix)), hash_tags_(hash_tags) {}

  std::string value(std::string_view key) const { return per_key("v:", key); }
  std::string lease(std::string_view key) const { return per_key("l:", key); }
  std::string generation(std::string_view key) const { return per_key("g:", key); }
  std::string tag(std::string_view tag) const { return join("t:", tag); }
  std::string bypass(std::string_view key) const { return per_key("p:", key); }
  std::string failed(std::string_view key) const { return per_key("x:", key); }
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

  std::string per_key(std::string_view kind, std::string_view key) const {
    if (!hash_tags_) return join(kind, key);
    std::string out;
    out.reserve(prefix_.size() + kind.size() + key.size() + 20);
    out.append(prefix_).append(kind).push_back('{');
    if (key.find_first_of("{}") == std::string_view::npos && !key.empty() && key.front() != '#') {
      out.append(key).push_back('}');
      return out;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(key)));
    out.append("#").append(hex, 16).push_back('}');
    out.append(key);
    return out;
  }

  // FNV-1a 64: any stable spread will do; it only has to be the same on every replica.
  static uint64_t fnv1a(std::string_view text) {
    uint64_t hash = 14695981039346656037ull;
    for (const char ch : text) hash = (hash ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
    return hash;
  }

  const std::string prefix_;
  const bool hash_tags_;
};

}  // namespace scalecache
