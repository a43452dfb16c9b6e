#pragma once
// The shared tier on one Redis: entries as strings under KeyScheme's names,
// the fleet lease as SET NX PX with a random token released by a
// compare-and-delete script (a lease that expired and was taken by another
// replica is never deleted by mistake; on one Redis the lease is advisory,
// which is enough for fills: a violation costs one extra origin call, never
// a wrong answer), tag sets, and cache events over pub/sub (EventBus).
// The same on a Redis Cluster: commands go through ClusterStore instead of
// one RedisStore, and KeyScheme puts each key's names in one slot.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/shared_tier.hpp"
#include "config/config.hpp"
#include "redis/cluster/cluster_store.hpp"
#include "redis/event_bus.hpp"
#include "redis/key_scheme.hpp"
#include "redis/lua_script.hpp"
#include "redis/redis_store.hpp"

namespace scalecache {

class RedisSharedTier final : public SharedTier {
 public:
  struct Options {
    RedisStore::Options store;          // standalone: the server; cluster, sentinel: the template of every server's
    std::vector<RedisAddress> cluster;  // cluster seed nodes; empty: standalone or sentinel
    // Sentinel mode when sentinels is not empty: the master they name for master_name.
    std::string sentinel_master;
    std::vector<RedisAddress> sentinels;
    std::string sentinel_password;
    std::string key_prefix;
    int64_t lease_ttl_ms;

    static Options from(const Config& config);  // config.redis must be configured (redis_configured)
  };

  struct Hooks {
    std::function<void(bool)> on_health;       // Redis seen up (true) or down (false)
    std::function<void()> on_subscribe_error;  // Redis refused the events subscription
    ClusterStore::Hooks cluster;               // cluster mode: redirects, refreshes, nodes (on_health is above)
  };

  RedisSharedTier(Options options, Hooks hooks);
  ~RedisSharedTier() override;

  std::vector<Lookup> lookup(const std::vector<LookupAsk>& asks, int64_t now_ms) override;
  LeaseOutcome take_lease(const std::string& key, Lease& lease) override;
  void release_lease(const std::string& key, const std::string& token) override;
  std::vector<WaitState> wait_states(const std::vector<std::string>& keys) override;
  FillResult store_fill(const std::string& key, const Entry& entry, const std::vector<std::string>& tags,
                        const Lease& lease) override;
  void mark_uncacheable(const std::string& key, const Lease& lease) override;
  bool extend_lease(const std::string& key, const std::string& token, int64_t ttl_ms) override;
  void mark_failed(const std::string& key, const Lease& lease) override;
  bool purge(const std::string& key, bool soft) override;
  TagPurge purge_tag(const std::string& tag, bool soft) override;
  void subscribe(EventHandlers handlers) override;
  void unsubscribe() override;

  std::string endpoint() const { return store_->endpoint(); }  // host:port, never the password

 private:
  struct BatchPurge {
    std::size_t reached = 0;  // keys whose purge Redis confirmed
    std::size_t notices_sent = 0;
    std::vector<std::string> purged;  // those keys
    std::vector<std::string> gone;    // soft purges that found no entry
  };

  // The lease step's script call for `key`: KEYS lease, generation, bypass,
  // failed, ARGV token, TTL; the lookup script adds the value's key and now.
  RedisCommands::Command lease_command(const LuaScript& script, const std::string& key, const std::string& token,
                                       std::optional<std::string> value_key = std::nullopt,
                                       std::optional<std::string> now = std::nullopt) const;
  // The lease step's reply as take_lease answers it; `token` moves into lease.token when acquired.
  static LeaseOutcome lease_from(const RedisCommands::Reply& reply, std::string& token, Lease& lease);
  RedisCommands::Command release_command(const std::string& key, const std::string& token) const;
  std::vector<RedisCommands::Command> bump_generation(const std::string& key) const;
  // Purges `keys` in two round trips at most: generations, deletes (or reads
  // for a soft purge) and notices; then the soft purges' conditional rewrites.
  BatchPurge purge_batch(const std::vector<std::string>& keys, bool soft);
  void prune_tag_sets(const std::vector<std::string>& tags);

  const Options options_;
  const KeyScheme keys_;
  std::function<RedisAddress()> subscribe_to_;  // set by the store's maker: where events are heard
  std::unique_ptr<RedisCommands> store_;
  EventBus events_;
};

}  // namespace scalecache
