#pragma once
// The shared tier on one Redis: entries as strings under KeyScheme's names,
// the fleet lease as SET NX PX with a random token released by a
// compare-and-delete script (a lease that expired and was taken by another
// replica is never deleted by mistake; on one Redis the lease is advisory,
// which is enough for fills: a violation costs one extra origin call, never
// a wrong answer), tag sets, and cache events over pub/sub (EventBus).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cache/shared_tier.hpp"
#include "config/config.hpp"
#include "redis/event_bus.hpp"
#include "redis/key_scheme.hpp"
#include "redis/redis_store.hpp"

namespace scalecache {

class RedisSharedTier final : public SharedTier {
 public:
  struct Options {
    RedisStore::Options store;
    std::string key_prefix;
    int64_t lease_ttl_ms;

    static Options from(const Config& config);  // config.redis.url must not be empty
  };

  // `on_health` is called with true/false whenever Redis is seen up or down.
  RedisSharedTier(Options options, std::function<void(bool)> on_health);
  ~RedisSharedTier() override;

  std::vector<Read> read(const std::vector<std::string>& keys) override;
  LeaseOutcome take_lease(const std::string& key, std::string& token) override;
  void release_lease(const std::string& key, const std::string& token) override;
  bool lease_held(const std::string& key) override;
  FillResult store_fill(const std::string& key, const Entry& entry, const std::vector<std::string>& tags,
                        const std::string& lease_token) override;
  bool purge(const std::string& key, bool soft) override;
  std::optional<TagPurge> purge_tag(const std::string& tag, bool soft) override;
  void subscribe(EventHandlers handlers) override;
  void unsubscribe() override;

  std::string endpoint() const { return store_.endpoint(); }  // host:port, never the password

 private:
  RedisStore::Command release_command(const std::string& key, const std::string& token) const;
  // Soft purge in L2: read, make stale, write back (or delete when nothing is left to keep).
  void mark_stale(const std::string& key);

  const Options options_;
  const KeyScheme keys_;
  RedisStore store_;
  EventBus events_;
};

}  // namespace scalecache
