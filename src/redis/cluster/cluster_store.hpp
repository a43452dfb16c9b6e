#pragma once
// The shared tier's commands on a Redis Cluster. Each command goes to the
// master owning its key's slot, through that master's own RedisStore (pool,
// timeout and circuit breaker per node), so a failed shard degrades only the
// keys it owns. A pipeline is split per node, each part keeping its order;
// a command without a key (PUBLISH) goes with the command before it, so a
// notice still follows what it announces.
//
// Redirects are followed inside the command timeout: MOVED re-sends to the
// named node and asks for a fresh slot map; ASK re-sends once after ASKING;
// TRYAGAIN and CLUSTERDOWN are retried after a short pause while time is
// left. The map is refreshed from the seeds and known masters at start, on
// MOVED, when a node fails, and every second, so a failover is followed once
// the cluster has promoted a replica.
//
// A node that is neither a master of the map nor a seed for two refreshes in
// a row (failed over, resharded empty, removed) has its store closed, so its
// pool and health thread do not outlive it; a map that flaps keeps its pools.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "redis/cluster/redirect.hpp"
#include "redis/cluster/slot_map.hpp"
#include "redis/redis_commands.hpp"
#include "redis/redis_store.hpp"

namespace scalecache {

class ClusterStore final : public RedisCommands {
 public:
  struct Hooks {
    std::function<void(bool)> on_health;  // every master owning slots is up (true), or not
    std::function<void(const std::string& node, bool up)> on_node_health;
    std::function<void(Redirect::Kind)> on_redirect;
    std::function<void(bool ok)> on_topology_refresh;
    // A node's store was closed (see above): nothing more will be said about it,
    // until it is used again. Called, as on_node_health, with the store's lock held.
    std::function<void(const std::string& node)> on_node_dropped;
  };

  // How nodes are reached: real RedisStores and CLUSTER SLOTS, or fakes in the unit tests.
  struct Backend {
    // The store of one node; it calls `on_health` as RedisStore does.
    std::function<std::shared_ptr<RedisCommands>(const RedisAddress& node, std::function<void(bool)> on_health)>
        open_node;
    // The slot map as `node` sees it; nullopt (with `error` set) when it cannot tell.
    std::function<std::optional<SlotMap>(const RedisAddress& node, std::string& error)> fetch_map;
    int64_t timeout_ms = 0;              // the budget of one pipeline, redirects and retries included
    int64_t refresh_interval_ms = 1000;  // the map is re-read this often anyway
  };
  // RedisStores made from `node_options` (its address replaced by each node's), CLUSTER SLOTS on fresh connections.
  static Backend redis_backend(const RedisStore::Options& node_options);

  ClusterStore(Backend backend, std::vector<RedisAddress> seeds, Hooks hooks);
  ~ClusterStore() override;
  ClusterStore(const ClusterStore&) = delete;
  ClusterStore& operator=(const ClusterStore&) = delete;

  std::vector<Reply> pipeline(const std::vector<Command>& commands) override;
  // Routed and redirected as pipeline(), each node's part on a fresh connection of its own.
  std::vector<Reply> pipeline_once_fresh(const std::vector<Command>& commands) override;
  bool up() const override { return up_.load(std::memory_order_relaxed); }
  std::string endpoint() const override;  // "cluster " and the seeds

  // A master to subscribe on (classic pub/sub reaches every node), taking
  // turns over the known ones, those seen up first, so a dead one is left.
  RedisAddress any_node();

 private:
  // How one node's part of a pipeline goes out: RedisCommands::pipeline or pipeline_once_fresh.
  using Send = std::vector<Reply> (RedisCommands::*)(const std::vector<Command>&);

  struct Node {
    std::shared_ptr<RedisCommands> store;
    uint64_t id = 0;  // which store of this name: reports of one already closed are ignored
    int absent = 0;   // successive refreshes it was neither a master nor a seed in
  };

  struct Pending {
    std::size_t index;    // into the caller's commands
    RedisAddress target;  // where to send it next
    bool asking = false;  // precede it with ASKING (an ASK redirect)
  };

  std::shared_ptr<const SlotMap> slot_map() const;
  std::shared_ptr<RedisCommands> node(const RedisAddress& address);  // opened on first use
  RedisAddress route(const SlotMap& map, const Command& command) const;
  std::vector<Pending> targets(const std::vector<Command>& commands) const;
  std::vector<Reply> send(const std::vector<Command>& commands, Send send_part);
  void request_refresh();
  bool refresh();
  // The stores of nodes gone for long enough, taken out of nodes_ (mutex_ held).
  std::vector<std::shared_ptr<RedisCommands>> drop_departed();
  void refresh_loop();
  void node_health(const std::string& endpoint, uint64_t id, bool up);
  void update_health();

  const Backend backend_;
  const std::vector<RedisAddress> seeds_;
  const Hooks hooks_;

  mutable std::mutex mutex_;
  std::shared_ptr<const SlotMap> map_;  // never null
  std::map<std::string, Node> nodes_;   // by host:port: the masters, the seeds used, those not gone for long
  uint64_t stores_opened_ = 0;
  std::size_t next_subscriber_ = 0;
  std::atomic<bool> up_{false};

  std::mutex refresh_mutex_;
  std::condition_variable refresh_cv_;
  bool refresh_wanted_ = false;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace scalecache
