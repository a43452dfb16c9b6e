#include "redis/cluster/cluster_store.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "redis/cluster/command_key.hpp"
#include "redis/cluster/key_slot.hpp"
#include "redis/cluster/topology.hpp"
#include "util/log.hpp"

namespace scalecache {
namespace {

using Clock = std::chrono::steady_clock;

// Rounds of sending per pipeline: a MOVED then an ASK then a TRYAGAIN is
// already rare; more means the cluster is in flux and the keys degrade.
constexpr int kMaxRounds = 5;
// Pause before re-sending after TRYAGAIN or CLUSTERDOWN (bounded by the time left).
constexpr auto kRetryPause = std::chrono::milliseconds(5);
// The map is re-read at most this often on demand.
constexpr auto kRefreshGap = std::chrono::milliseconds(100);
// A node's store is closed after this many refreshes in a row without it: a
// map read mid-failover or mid-reshard that leaves a node out for one refresh
// does not cost it its pool.
constexpr int kDropAfterRefreshes = 2;

bool same_node(const RedisAddress& a, const RedisAddress& b) { return a.port == b.port && a.host == b.host; }

}  // namespace

ClusterStore::Backend ClusterStore::redis_backend(const RedisStore::Options& node_options) {
  Backend backend;
  backend.timeout_ms = node_options.timeout_ms;
  backend.open_node = [node_options](const RedisAddress& node, std::function<void(bool)> on_health) {
    RedisStore::Options options = node_options;
    options.address.host = node.host;
    options.address.port = node.port;
    options.address.db = 0;  // a cluster has only database 0
    return std::make_shared<RedisStore>(std::move(options), std::move(on_health));
  };
  backend.fetch_map = [node_options](const RedisAddress& node, std::string& error) {
    RedisAddress with_credentials = node_options.address;
    with_credentials.host = node.host;
    with_credentials.port = node.port;
    with_credentials.db = 0;
    return fetch_slot_map(with_credentials, node_options.password, node_options.connect_timeout_ms,
                          node_options.timeout_ms, error);
  };
  return backend;
}

ClusterStore::ClusterStore(Backend backend, std::vector<RedisAddress> seeds, Hooks hooks)
    : backend_(std::move(backend)),
      seeds_(std::move(seeds)),
      hooks_(std::move(hooks)),
      map_(std::make_shared<const SlotMap>()) {
  // The first map is read before any request, so requests route right from the start.
  refresh();
  refresher_ = std::thread([this] { refresh_loop(); });
}

ClusterStore::~ClusterStore() {
  {
    std::lock_guard lock(refresh_mutex_);
    stopping_ = true;
  }
  refresh_cv_.notify_all();
  refresher_.join();
  // Node stores join their health threads, which call node_health() and take mutex_: free them outside it.
  std::map<std::string, Node> nodes;
  {
    std::lock_guard lock(mutex_);
    nodes.swap(nodes_);
  }
}

std::string ClusterStore::endpoint() const {
  std::string out = "cluster";
  const char* separator = " ";
  for (const RedisAddress& seed : seeds_) {
    out.append(separator).append(endpoint_of(seed));
    separator = ",";
  }
  return out;
}

std::shared_ptr<const SlotMap> ClusterStore::slot_map() const {
  std::lock_guard lock(mutex_);
  return map_;
}

std::shared_ptr<RedisCommands> ClusterStore::node(const RedisAddress& address) {
  const std::string name = endpoint_of(address);
  std::lock_guard lock(mutex_);
  Node& node = nodes_[name];
  if (!node.store) {
    node.id = ++stores_opened_;
    node.store = backend_.open_node(address, [this, name, id = node.id](bool up) { node_health(name, id, up); });
  }
  return node.store;
}

RedisAddress ClusterStore::route(const SlotMap& map, const Command& command) const {
  const auto key = command_key(command);
  const RedisAddress* master = key ? map.master_of(key_slot(*key)) : nullptr;
  // No map yet (or the slot unassigned): any seed answers MOVED, or fails like the cluster would.
  return master != nullptr ? *master : seeds_.front();
}

std::vector<ClusterStore::Pending> ClusterStore::targets(const std::vector<Command>& commands) const {
  const std::shared_ptr<const SlotMap> map = slot_map();
  std::vector<Pending> pending(commands.size());
  // A keyless command (a notice) goes where the command before it went, or
  // the first keyed one's node when it leads.
  const auto first_keyed =
      std::find_if(commands.begin(), commands.end(), [](const Command& c) { return command_key(c).has_value(); });
  RedisAddress previous = first_keyed != commands.end() ? route(*map, *first_keyed) : seeds_.front();
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (command_key(commands[i])) previous = route(*map, commands[i]);
    pending[i] = {i, previous, false};
  }
  return pending;
}

std::vector<RedisCommands::Reply> ClusterStore::pipeline(const std::vector<Command>& commands) {
  return send(commands, &RedisCommands::pipeline);
}

std::vector<RedisCommands::Reply> ClusterStore::pipeline_once_fresh(const std::vector<Command>& commands) {
  return send(commands, &RedisCommands::pipeline_once_fresh);
}

std::vector<RedisCommands::Reply> ClusterStore::send(const std::vector<Command>& commands, Send send_part) {
  std::vector<Reply> replies(commands.size());
  if (commands.empty()) return replies;
  const auto deadline = Clock::now() + std::chrono::milliseconds(backend_.timeout_ms);
  std::vector<Pending> pending = targets(commands);
  for (int round = 0; round < kMaxRounds && !pending.empty(); ++round) {
    std::vector<Pending> again;
    bool pause = false;
    // One pipeline per node, in the order the commands were given.
    std::vector<bool> sent(pending.size(), false);
    for (std::size_t lead = 0; lead < pending.size(); ++lead) {
      if (sent[lead]) continue;
      std::vector<std::size_t> group;
      std::vector<Command> batch;
      for (std::size_t i = lead; i < pending.size(); ++i) {
        if (sent[i] || !same_node(pending[i].target, pending[lead].target)) continue;
        sent[i] = true;
        group.push_back(i);
        if (pending[i].asking) batch.push_back({"ASKING"});
        batch.push_back(commands[pending[i].index]);
      }
      // An ASKING and the command it allows go in one part, so on one connection, fresh or pooled.
      const std::vector<Reply> answers = (*node(pending[lead].target).*send_part)(batch);
      std::size_t at = 0;
      // A keyless command (a notice) after a redirected one is sent again
      // after it, wherever it went: a notice must not come before what it
      // announces. (Its first copy ran too; a repeated notice is harmless.)
      std::optional<RedisAddress> follow;
      for (const std::size_t i : group) {
        if (pending[i].asking) ++at;
        Reply answer = answers[at++];
        const bool keyed = command_key(commands[pending[i].index]).has_value();
        if (!keyed && follow) again.push_back({pending[i].index, *follow, false});
        if (keyed) follow.reset();
        const std::optional<Redirect> redirect =
            answer.status == Status::Unavailable ? parse_redirect(answer.text) : std::nullopt;
        if (answer.status == Status::Unavailable && answer.text.empty()) request_refresh();  // the node failed
        replies[pending[i].index] = std::move(answer);
        if (!redirect) continue;
        if (hooks_.on_redirect) hooks_.on_redirect(redirect->kind);
        switch (redirect->kind) {
          case Redirect::Kind::Moved:
            request_refresh();
            again.push_back({pending[i].index, redirect->target, false});
            break;
          case Redirect::Kind::Ask: again.push_back({pending[i].index, redirect->target, true}); break;
          case Redirect::Kind::TryAgain:
          case Redirect::Kind::ClusterDown:
            request_refresh();
            pause = true;
            again.push_back({pending[i].index, route(*slot_map(), commands[pending[i].index]), false});
            break;
        }
        follow = again.back().target;
      }
    }
    pending = std::move(again);
    const auto now = Clock::now();
    if (pending.empty() || now >= deadline) break;
    if (pause) std::this_thread::sleep_for(std::min<Clock::duration>(kRetryPause, deadline - now));
  }
  return replies;
}

RedisAddress ClusterStore::any_node() {
  const std::shared_ptr<const SlotMap> map = slot_map();
  const std::vector<RedisAddress>& candidates = map->masters.empty() ? seeds_ : map->masters;
  std::size_t start = 0;
  {
    std::lock_guard lock(mutex_);
    start = next_subscriber_++;
  }
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const RedisAddress& candidate = candidates[(start + i) % candidates.size()];
    if (node(candidate)->up()) return candidate;
  }
  return candidates[start % candidates.size()];
}

void ClusterStore::request_refresh() {
  {
    std::lock_guard lock(refresh_mutex_);
    refresh_wanted_ = true;
  }
  refresh_cv_.notify_one();
}

bool ClusterStore::refresh() {
  // Masters of the current map first (they know the latest epoch), then the seeds.
  std::vector<RedisAddress> candidates = slot_map()->masters;
  candidates.insert(candidates.end(), seeds_.begin(), seeds_.end());
  std::string error;
  for (const RedisAddress& candidate : candidates) {
    std::optional<SlotMap> fresh = backend_.fetch_map(candidate, error);
    if (!fresh) continue;
    for (const RedisAddress& master : fresh->masters) node(master);  // pools (and their health) start now
    std::vector<std::shared_ptr<RedisCommands>> departed;
    {
      std::lock_guard lock(mutex_);
      map_ = std::make_shared<const SlotMap>(std::move(*fresh));
      departed = drop_departed();
    }
    departed.clear();  // joins their health threads, which take mutex_: outside it
    update_health();
    if (hooks_.on_topology_refresh) hooks_.on_topology_refresh(true);
    return true;
  }
  log::warn("redis cluster: no node answered CLUSTER SLOTS", {{"redis", endpoint()}, {"reason", error}});
  if (hooks_.on_topology_refresh) hooks_.on_topology_refresh(false);
  return false;
}

std::vector<std::shared_ptr<RedisCommands>> ClusterStore::drop_departed() {
  std::set<std::string> wanted;
  for (const RedisAddress& master : map_->masters) wanted.insert(endpoint_of(master));
  for (const RedisAddress& seed : seeds_) wanted.insert(endpoint_of(seed));
  std::vector<std::shared_ptr<RedisCommands>> departed;
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    Node& node = it->second;
    node.absent = wanted.contains(it->first) ? 0 : node.absent + 1;
    if (node.absent < kDropAfterRefreshes) {
      ++it;
      continue;
    }
    log::info("redis cluster: node gone from the slot map, its pool closed", {{"redis", it->first}});
    if (hooks_.on_node_dropped) hooks_.on_node_dropped(it->first);
    departed.push_back(std::move(node.store));
    it = nodes_.erase(it);
  }
  return departed;
}

void ClusterStore::refresh_loop() {
  std::unique_lock lock(refresh_mutex_);
  while (!stopping_) {
    refresh_cv_.wait_for(lock, std::chrono::milliseconds(backend_.refresh_interval_ms),
                         [this] { return stopping_ || refresh_wanted_; });
    if (stopping_) return;
    refresh_wanted_ = false;
    lock.unlock();
    refresh();
    lock.lock();
    // Requests that failed meanwhile asked again: one more refresh after the gap serves them all.
    refresh_cv_.wait_for(lock, kRefreshGap, [this] { return stopping_; });
  }
}

void ClusterStore::node_health(const std::string& endpoint, uint64_t id, bool up) {
  {
    // Under the lock, so a report racing the store's drop cannot bring back the node's metric after it.
    std::lock_guard lock(mutex_);
    const auto it = nodes_.find(endpoint);
    if (it == nodes_.end() || it->second.id != id) return;  // a closed store's last words
    if (hooks_.on_node_health) hooks_.on_node_health(endpoint, up);
  }
  if (!up) request_refresh();  // a master down may be a failover: follow it once the cluster has
  update_health();
}

void ClusterStore::update_health() {
  bool all_up = true;
  {
    std::lock_guard lock(mutex_);
    if (map_->masters.empty()) all_up = false;
    for (const RedisAddress& master : map_->masters) {
      const auto it = nodes_.find(endpoint_of(master));
      all_up = all_up && it != nodes_.end() && it->second.store->up();
    }
  }
  if (up_.exchange(all_up) != all_up && hooks_.on_health) hooks_.on_health(all_up);
}

}  // namespace scalecache
