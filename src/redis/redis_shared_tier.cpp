#include "redis/redis_shared_tier.hpp"

#include <algorithm>
#include <charconv>
#include <random>

#include "cache/entry_codec.hpp"
#include "cache/freshness.hpp"
#include "redis/lua_script.hpp"
#include "redis/sentinel/sentinel_store.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/random_token.hpp"

namespace scalecache {
namespace {

using Status = RedisCommands::Status;
using Command = RedisCommands::Command;
using Reply = RedisCommands::Reply;

// Deletes the lease only if it is still ours: one that expired and was
// taken by another replica is never deleted by mistake.
const LuaScript kReleaseScript{
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"};

// The lease step, shared by the lease and lookup scripts. KEYS: lease,
// generation, bypass, failed. ARGV: token, lease TTL. Returns outcome,
// generation: the generation whatever the outcome, so a fetch that waits and
// later calls the origin still knows when it began. A new lease starts a new
// try: a failed job's marker no longer applies.
constexpr const char* kLeaseStep = R"lua(
local function lease_step()
  local generation = redis.call('get', KEYS[2]) or '0'
  if redis.call('exists', KEYS[3]) == 1 then return 'bypass', generation end
  if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    redis.call('del', KEYS[4])
    return 'acquired', generation
  end
  return 'held', generation
end
)lua";

// Returns {outcome, generation}.
const LuaScript kLeaseScript{std::string(kLeaseStep) + "return {lease_step()}\n"};

// A miss's read and lease step in one round trip. KEYS: as the lease step,
// then the value. ARGV: as the lease step, then now (ms). An entry servable
// now returns {'value', entry}; otherwise the lease step runs and returns
// {outcome, generation[, the unservable entry]}. Servable is
// servable_until_ms (cache/freshness) read from entry_codec's fixed header:
// fresh_until at byte 13, the flags (1: negative) at byte 4,
// stale-while-revalidate seconds at byte 25, little-endian.
const LuaScript kLookupScript{std::string(kLeaseStep) + R"lua(
local function le(s, at, n)
  local v = 0
  for i = at + n - 1, at, -1 do v = v * 256 + string.byte(s, i) end
  return v
end
local value = redis.call('get', KEYS[5])
if value and #value >= 40 and string.sub(value, 1, 3) == 'SC\1' then
  local servable_until = le(value, 13, 8)
  if string.byte(value, 4) % 2 == 0 then servable_until = servable_until + le(value, 25, 4) * 1000 end
  if tonumber(ARGV[3]) < servable_until then return {'value', value} end
end
local outcome, generation = lease_step()
if value then return {outcome, generation, value} end
return {outcome, generation}
)lua"};

// Keeps a job's lease. KEYS: lease. ARGV: token, TTL. 1 when it is still the token's.
const LuaScript kExtendLeaseScript{
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"};

// The fill. KEYS: value, generation, lease, bypass. ARGV: the generation seen when
// the fetch began, the entry, its retention (ms), the lease token ('' for
// none), the events channel, the fill notice. Returns {stored, released}.
// The value, its notice and the release happen at once; a purge since the
// fetch began (generation moved on) means nothing is stored or announced.
const LuaScript kFillScript{R"lua(
local released = 0
if ARGV[4] ~= '' and redis.call('get', KEYS[3]) == ARGV[4] then
  redis.call('del', KEYS[3])
  released = 1
end
if (redis.call('get', KEYS[2]) or '0') ~= ARGV[1] then return {0, released} end
redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('del', KEYS[4])
redis.call('publish', ARGV[5], ARGV[6])
return {1, released}
)lua"};

// A tag set lives at least as long as its longest-kept member. (PEXPIRE's GT
// and NX flags would say this in one command, but need Redis 7.)
const LuaScript kExtendScript{R"lua(
local ttl = redis.call('pttl', KEYS[1])
if ttl >= 0 and ttl >= tonumber(ARGV[1]) then return 0 end
return redis.call('pexpire', KEYS[1], ARGV[1])
)lua"};

// Soft purge: rewrite the entry as stale only if it is still the bytes that
// were read, so a concurrent hard purge (or a newer fill) is never undone.
const LuaScript kMarkStaleScript{R"lua(
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then return redis.call('del', KEYS[1]) end
redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
)lua"};

// Generations must outlive any fetch that could still be in flight (its
// lease TTL plus its origin call); an hour is far beyond that.
constexpr int64_t kGenerationKeepMs = 3'600'000;
// Members of a tag set read and purged per round trip.
constexpr const char* kTagBatch = "256";
// One fill in this many also drops tag-set members whose entries are gone,
// so sets of popular tags don't grow for ever.
constexpr int kPruneOneIn = 16;
// How long replicas call the origin directly for a key whose answer could not
// be cached, unless a cacheable answer ends it sooner.
constexpr int64_t kBypassKeepMs = 30'000;
// How long a dead-lettered job's waiters, and misses that join them, are told
// it failed; long enough for every replica's waiter to look, short enough
// that the next miss after it starts a new job.
constexpr int64_t kFailedKeepMs = 2'000;

// The lease script's generation ('0' for a key never purged); nullopt if it is not a number.
std::optional<int64_t> parse_generation(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The store's options with every script this tier runs, loaded on each connection.
RedisStore::Options with_scripts(RedisStore::Options options) {
  for (const LuaScript* script : {&kReleaseScript, &kLeaseScript, &kLookupScript, &kFillScript, &kExtendScript,
                                  &kMarkStaleScript, &kExtendLeaseScript}) {
    options.scripts.push_back(script->source);
  }
  return options;
}

bool should_prune() {
  thread_local std::minstd_rand generator{std::random_device{}()};
  return generator() % kPruneOneIn == 0;
}

}  // namespace

RedisSharedTier::Options RedisSharedTier::Options::from(const Config& config) {
  const RedisConfig& redis = config.redis;
  const bool sentinel = redis.mode == "sentinel";
  return {RedisStore::Options::from(redis),
          redis.mode == "cluster" ? parse_redis_nodes(redis.nodes) : std::vector<RedisAddress>{},
          redis.sentinel.master_name,
          sentinel ? parse_redis_nodes(redis.sentinel.nodes) : std::vector<RedisAddress>{},
          redis.sentinel.password,
          redis.key_prefix,
          config.cache.lease_ttl_ms};
}

namespace {

// One server's store, the sentinels' master's, or the cluster's; `subscribe_to` learns where the event bus listens.
std::unique_ptr<RedisCommands> make_store(const RedisSharedTier::Options& options, RedisSharedTier::Hooks& hooks,
                                          std::function<RedisAddress()>& subscribe_to) {
  RedisStore::Options store = with_scripts(options.store);
  if (!options.sentinels.empty()) {
    SentinelStore::Options sentinel{std::move(store), options.sentinel_master, options.sentinels,
                                    options.sentinel_password};
    SentinelStore::Backend backend = SentinelStore::redis_backend(sentinel);
    auto owned = std::make_unique<SentinelStore>(std::move(sentinel), std::move(backend), std::move(hooks.on_health));
    subscribe_to = [sentinel = owned.get()] { return sentinel->master_address(); };
    return owned;
  }
  if (options.cluster.empty()) {
    subscribe_to = [address = store.address] { return address; };
    return std::make_unique<RedisStore>(std::move(store), std::move(hooks.on_health));
  }
  ClusterStore::Hooks cluster = std::move(hooks.cluster);
  cluster.on_health = std::move(hooks.on_health);
  auto owned = std::make_unique<ClusterStore>(ClusterStore::redis_backend(store), options.cluster, std::move(cluster));
  const RedisAddress credentials = options.store.address;  // the ACL user; the host comes from the cluster
  subscribe_to = [cluster = owned.get(), credentials] {
    RedisAddress node = credentials;
    const RedisAddress picked = cluster->any_node();
    node.host = picked.host;
    node.port = picked.port;
    node.db = 0;
    return node;
  };
  return owned;
}

}  // namespace

RedisSharedTier::RedisSharedTier(Options options, Hooks hooks)
    : options_(std::move(options)),
      keys_(options_.key_prefix, !options_.cluster.empty()),
      store_(make_store(options_, hooks, subscribe_to_)),
      events_({subscribe_to_, options_.store.password, options_.store.connect_timeout_ms, keys_.events_channel(),
               std::move(hooks.on_subscribe_error)},
              *store_) {}

RedisSharedTier::~RedisSharedTier() { unsubscribe(); }

std::vector<SharedTier::Lookup> RedisSharedTier::lookup(const std::vector<LookupAsk>& asks, int64_t now_ms) {
  std::vector<Command> commands;
  commands.reserve(asks.size());
  std::vector<std::string> tokens(asks.size());
  for (std::size_t i = 0; i < asks.size(); ++i) {
    const std::string& key = asks[i].key;
    if (!asks[i].lease) {
      commands.push_back({"GET", keys_.value(key)});
      continue;
    }
    tokens[i] = random_token();
    commands.push_back(lease_command(kLookupScript, key, tokens[i], keys_.value(key), std::to_string(now_ms)));
  }
  std::vector<Reply> replies = store_->pipeline(commands);
  std::vector<Lookup> found(replies.size());
  for (std::size_t i = 0; i < replies.size(); ++i) {
    Reply& reply = replies[i];
    Read& read = found[i].read;
    if (reply.status == Status::Unavailable) continue;  // Read's default
    if (!asks[i].lease) {
      read.entry = reply.status == Status::Ok ? decode_entry(reply.text) : std::nullopt;
    } else if (reply.status != Status::Ok || reply.elements.size() < 2) {
      continue;  // an answer the script never gives: as if unreachable
    } else if (reply.elements[0] == "value") {
      read.entry = decode_entry(reply.elements[1]);
    } else {
      found[i].lease_outcome = lease_from(reply, tokens[i], found[i].lease);
      if (reply.elements.size() > 2) read.entry = decode_entry(reply.elements[2]);
    }
    read.status = read.entry ? ReadStatus::Found : ReadStatus::Missing;
  }
  return found;
}

Command RedisSharedTier::lease_command(const LuaScript& script, const std::string& key, const std::string& token,
                                       std::optional<std::string> value_key, std::optional<std::string> now) const {
  Command command{"EVALSHA",         script.sha1,      value_key ? "5" : "4", keys_.lease(key), keys_.generation(key),
                  keys_.bypass(key), keys_.failed(key)};
  if (value_key) command.push_back(std::move(*value_key));
  command.push_back(token);
  command.push_back(std::to_string(options_.lease_ttl_ms));
  if (now) command.push_back(std::move(*now));
  return command;
}

LeaseOutcome RedisSharedTier::lease_from(const Reply& reply, std::string& token, Lease& lease) {
  lease.token.clear();
  lease.generation.reset();
  if (reply.status != Status::Ok || reply.elements.size() < 2) return LeaseOutcome::Unavailable;
  lease.generation = parse_generation(reply.elements[1]);
  const std::string& outcome = reply.elements[0];
  if (outcome == "held") return LeaseOutcome::HeldElsewhere;
  if (outcome == "bypass") return LeaseOutcome::Bypass;
  if (!lease.generation) return LeaseOutcome::Unavailable;
  lease.token = std::move(token);
  return LeaseOutcome::Acquired;
}

LeaseOutcome RedisSharedTier::take_lease(const std::string& key, Lease& lease) {
  std::string candidate = random_token();
  return lease_from(store_->pipeline({lease_command(kLeaseScript, key, candidate)})[0], candidate, lease);
}

void RedisSharedTier::mark_uncacheable(const std::string& key, const Lease& lease) {
  std::vector<Command> mark{{"SET", keys_.bypass(key), "1", "PX", std::to_string(kBypassKeepMs)}};
  if (!lease.token.empty()) mark.push_back(release_command(key, lease.token));
  mark.push_back(events_.publish_command(CacheEvent::Uncacheable, key));
  store_->pipeline(mark);
}

bool RedisSharedTier::extend_lease(const std::string& key, const std::string& token, int64_t ttl_ms) {
  if (token.empty()) return false;
  const auto reply =
      store_->run({"EVALSHA", kExtendLeaseScript.sha1, "1", keys_.lease(key), token, std::to_string(ttl_ms)});
  return reply.status == Status::Ok && reply.integer == 1;
}

void RedisSharedTier::mark_failed(const std::string& key, const Lease& lease) {
  std::vector<Command> mark{{"SET", keys_.failed(key), "1", "PX", std::to_string(kFailedKeepMs)}};
  if (!lease.token.empty()) mark.push_back(release_command(key, lease.token));
  mark.push_back(events_.publish_command(CacheEvent::Failed, key));
  store_->pipeline(mark);
}

Command RedisSharedTier::release_command(const std::string& key, const std::string& token) const {
  return {"EVALSHA", kReleaseScript.sha1, "1", keys_.lease(key), token};
}

void RedisSharedTier::release_lease(const std::string& key, const std::string& token) {
  if (token.empty()) return;
  if (store_->pipeline({release_command(key, token)})[0].status != Status::Unavailable) return;
  // No pooled connection (or it broke): try once on a connection of its own,
  // rather than leave every other replica waiting out the lease TTL.
  if (store_->run_once_fresh(release_command(key, token)).status == Status::Unavailable) {
    log::warn("could not release a fleet lease; other replicas wait for its TTL", {{"key", key}});
  }
}

std::vector<SharedTier::WaitState> RedisSharedTier::wait_states(const std::vector<std::string>& keys) {
  std::vector<Command> checks;
  constexpr std::size_t kChecks = 4;  // value, lease, bypass, failed
  checks.reserve(keys.size() * kChecks);
  for (const std::string& key : keys) {
    checks.push_back({"EXISTS", keys_.value(key)});
    checks.push_back({"EXISTS", keys_.lease(key)});
    checks.push_back({"EXISTS", keys_.bypass(key)});
    checks.push_back({"EXISTS", keys_.failed(key)});
  }
  const std::vector<Reply> replies = store_->pipeline(checks);
  std::vector<WaitState> states(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Reply* r = &replies[kChecks * i];
    if (std::any_of(r, r + kChecks, [](const Reply& one) { return one.status != Status::Ok; })) continue;
    states[i] = {false, r[0].integer > 0, r[1].integer > 0, r[2].integer > 0, r[3].integer > 0};
  }
  return states;
}

SharedTier::FillResult RedisSharedTier::store_fill(const std::string& key, const Entry& entry,
                                                   const std::vector<std::string>& tags, const Lease& lease) {
  FillResult result;
  if (!lease.generation) {
    // The store did not answer when the fetch began: whether a purge came
    // since cannot be told, so the answer is not shared.
    release_lease(key, lease.token);
    result.lease_released = true;
    return result;
  }
  const std::string keep = std::to_string(std::max<int64_t>(1, retention_ms(entry.meta, entry.meta.stored_at_ms)));
  const Command notice = events_.publish_command(CacheEvent::Filled, key, entry.meta.stored_at_ms);
  std::vector<Command> fill;
  fill.push_back({"EVALSHA", kFillScript.sha1, "4", keys_.value(key), keys_.generation(key), keys_.lease(key),
                  keys_.bypass(key), std::to_string(*lease.generation), encode_entry(entry), keep, lease.token,
                  notice[1], notice[2]});
  // Tags of an answer that turns out superseded are harmless: purging a
  // member whose entry is gone does nothing, and pruning drops it.
  for (const std::string& tag : tags) {
    fill.push_back({"SADD", keys_.tag(tag), key});
    fill.push_back({"EVALSHA", kExtendScript.sha1, "1", keys_.tag(tag), keep});
  }
  const std::vector<Reply> replies = store_->pipeline(fill);
  const Reply& filled = replies[0];
  if (filled.status == Status::Ok && filled.elements_int.size() == 2) {
    result.outcome = filled.elements_int[0] == 1 ? FillOutcome::Stored : FillOutcome::Superseded;
    result.lease_released = lease.token.empty() || filled.elements_int[1] == 1;
  }
  if (!tags.empty() && should_prune()) prune_tag_sets(tags);
  return result;
}

void RedisSharedTier::prune_tag_sets(const std::vector<std::string>& tags) {
  for (const std::string& tag : tags) {
    const auto sample = store_->run({"SRANDMEMBER", keys_.tag(tag), "4"});
    if (sample.status != Status::Ok || sample.elements.empty()) continue;
    std::vector<Command> exists;
    for (const std::string& member : sample.elements) exists.push_back({"EXISTS", keys_.value(member)});
    const auto replies = store_->pipeline(exists);
    Command remove{"SREM", keys_.tag(tag)};
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (replies[i].status == Status::Ok && replies[i].integer == 0) remove.push_back(sample.elements[i]);
    }
    if (remove.size() > 2) store_->pipeline({remove});
  }
}

std::vector<Command> RedisSharedTier::bump_generation(const std::string& key) const {
  return {{"INCR", keys_.generation(key)}, {"PEXPIRE", keys_.generation(key), std::to_string(kGenerationKeepMs)}};
}

bool RedisSharedTier::purge(const std::string& key, bool soft) { return purge_batch({key}, soft).reached == 1; }

RedisSharedTier::BatchPurge RedisSharedTier::purge_batch(const std::vector<std::string>& keys, bool soft) {
  // The generation moves first: from then on no fill that began earlier can
  // store its answer, whatever this purge finds.
  std::vector<Command> first;
  for (const std::string& key : keys) {
    for (Command& c : bump_generation(key)) first.push_back(std::move(c));
    first.push_back(soft ? Command{"GET", keys_.value(key)} : Command{"DEL", keys_.value(key)});
    if (!soft) first.push_back(events_.publish_command(CacheEvent::Purged, key));
  }
  const std::vector<Reply> replies = store_->pipeline(first);
  const std::size_t stride = soft ? 3 : 4;
  BatchPurge result;
  std::vector<Command> second;
  struct Marked {
    std::size_t index;
    bool had_entry;  // a mark-stale script precedes its notice in `second`
  };
  std::vector<Marked> marked;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Reply* r = &replies[i * stride];
    const bool ok =
        r[0].status == Status::Ok && r[2].status != Status::Unavailable && (soft || r[3].status == Status::Ok);
    if (!ok) continue;
    if (!soft) {
      ++result.reached;
      ++result.notices_sent;
      result.purged.push_back(keys[i]);
      continue;
    }
    std::optional<Entry> entry = r[2].status == Status::Ok ? decode_entry(r[2].text) : std::nullopt;
    if (entry) {
      const int64_t now = wall_clock_ms();
      mark_stale(entry->meta, now);
      second.push_back({"EVALSHA", kMarkStaleScript.sha1, "1", keys_.value(keys[i]), r[2].text, encode_entry(*entry),
                        std::to_string(retention_ms(entry->meta, now))});
    } else {
      result.gone.push_back(keys[i]);
    }
    second.push_back(events_.publish_command(CacheEvent::MarkedStale, keys[i]));
    marked.push_back({i, entry.has_value()});
  }
  if (second.empty()) return result;
  const std::vector<Reply> written = store_->pipeline(second);
  std::size_t at = 0;
  for (const Marked& m : marked) {
    const bool script_ok = !m.had_entry || written[at++].status == Status::Ok;
    const bool notice_ok = written[at++].status == Status::Ok;
    if (!script_ok || !notice_ok) continue;
    ++result.reached;
    ++result.notices_sent;
    result.purged.push_back(keys[m.index]);
  }
  return result;
}

SharedTier::TagPurge RedisSharedTier::purge_tag(const std::string& tag, bool soft) {
  const std::string set = keys_.tag(tag);
  TagPurge purged;
  std::string cursor = "0";
  do {
    auto page = store_->run({"SSCAN", set, cursor, "COUNT", kTagBatch});
    if (page.status != Status::Ok || page.elements.empty()) return purged;  // incomplete
    // SSCAN answers [cursor, [members...]], read here flattened: cursor first.
    cursor = page.elements.front();
    const std::vector<std::string> members(page.elements.begin() + 1, page.elements.end());
    BatchPurge batch = purge_batch(members, soft);
    purged.notices_sent += batch.notices_sent;
    for (auto& key : batch.purged) purged.keys.push_back(std::move(key));
    if (batch.reached != members.size()) return purged;  // incomplete: the caller is told
    if (soft && !batch.gone.empty()) {
      // Members whose entries are gone only make the set bigger.
      Command remove{"SREM", set};
      remove.insert(remove.end(), batch.gone.begin(), batch.gone.end());
      store_->pipeline({remove});
    }
  } while (cursor != "0");
  if (!soft && store_->run({"DEL", set}).status == Status::Unavailable) return purged;
  purged.complete = true;
  return purged;
}

void RedisSharedTier::subscribe(EventHandlers handlers) { events_.start(std::move(handlers)); }

void RedisSharedTier::unsubscribe() { events_.stop(); }

}  // namespace scalecache
