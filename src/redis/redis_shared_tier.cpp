#include "redis/redis_shared_tier.hpp"

#include <algorithm>

#include "cache/entry_codec.hpp"
#include "cache/freshness.hpp"
#include "util/clock.hpp"
#include "util/random_token.hpp"

namespace scalecache {
namespace {

constexpr const char* kReleaseScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

using Status = RedisStore::Status;

}  // namespace

RedisSharedTier::Options RedisSharedTier::Options::from(const Config& config) {
  return {RedisStore::Options::from(config.redis), config.redis.key_prefix, config.cache.lease_ttl_ms};
}

RedisSharedTier::RedisSharedTier(Options options, std::function<void(bool)> on_health)
    : options_(std::move(options)),
      keys_(options_.key_prefix),
      store_(options_.store, std::move(on_health)),
      events_({options_.store.address, options_.store.password, options_.store.connect_timeout_ms,
               keys_.events_channel()},
              store_) {}

RedisSharedTier::~RedisSharedTier() { unsubscribe(); }

std::vector<SharedTier::Read> RedisSharedTier::read(const std::vector<std::string>& keys) {
  std::vector<RedisStore::Command> gets;
  gets.reserve(keys.size());
  for (const std::string& key : keys) gets.push_back({"GET", keys_.value(key)});
  std::vector<RedisStore::Reply> replies = store_.pipeline(gets);
  std::vector<Read> reads(replies.size());
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].status == Status::Unavailable) continue;  // Read's default
    reads[i].entry = replies[i].status == Status::Ok ? decode_entry(replies[i].text) : std::nullopt;
    reads[i].status = reads[i].entry ? ReadStatus::Found : ReadStatus::Missing;
  }
  return reads;
}

LeaseOutcome RedisSharedTier::take_lease(const std::string& key, std::string& token) {
  std::string candidate = random_token();
  const auto reply =
      store_.run({"SET", keys_.lease(key), candidate, "NX", "PX", std::to_string(options_.lease_ttl_ms)});
  token.clear();
  if (reply.status == Status::Miss) return LeaseOutcome::HeldElsewhere;  // NX refused: nil reply
  if (reply.status != Status::Ok) return LeaseOutcome::Unavailable;
  token = std::move(candidate);
  return LeaseOutcome::Acquired;
}

RedisStore::Command RedisSharedTier::release_command(const std::string& key, const std::string& token) const {
  return {"EVAL", kReleaseScript, "1", keys_.lease(key), token};
}

void RedisSharedTier::release_lease(const std::string& key, const std::string& token) {
  if (token.empty()) return;
  store_.pipeline({release_command(key, token)});
}

bool RedisSharedTier::lease_held(const std::string& key) {
  const auto reply = store_.run({"EXISTS", keys_.lease(key)});
  return reply.status == Status::Ok && reply.integer > 0;
}

SharedTier::FillResult RedisSharedTier::store_fill(const std::string& key, const Entry& entry,
                                                   const std::vector<std::string>& tags,
                                                   const std::string& lease_token) {
  // One pipeline, run by Redis in this order: the value, its tags, the
  // notice that wakes other replicas' waiters, then the lease release.
  const std::string keep = std::to_string(std::max<int64_t>(1, retention_ms(entry.meta, entry.meta.stored_at_ms)));
  std::vector<RedisStore::Command> fill;
  fill.push_back({"SET", keys_.value(key), encode_entry(entry), "PX", keep});
  for (const std::string& tag : tags) {
    const std::string set = keys_.tag(tag);
    fill.push_back({"SADD", set, key});
    // The tag set lives at least as long as its longest-kept member.
    fill.push_back({"PEXPIRE", set, keep, "GT"});
    fill.push_back({"PEXPIRE", set, keep, "NX"});
  }
  const std::size_t notice = fill.size();
  fill.push_back(events_.publish_command(CacheEvent::Filled, key, entry.meta.stored_at_ms));
  if (!lease_token.empty()) fill.push_back(release_command(key, lease_token));
  const std::vector<RedisStore::Reply> replies = store_.pipeline(fill);
  FillResult result;
  result.notice_sent = replies[notice].status == Status::Ok;
  result.lease_released = lease_token.empty() || replies.back().status == Status::Ok;
  return result;
}

void RedisSharedTier::mark_stale(const std::string& key) {
  Read got = read_one(key);
  if (!got.entry) return;
  const int64_t now = wall_clock_ms();
  scalecache::mark_stale(got.entry->meta, now);
  const int64_t keep_ms = retention_ms(got.entry->meta, now);
  if (keep_ms <= 0) {
    store_.run({"DEL", keys_.value(key)});
  } else {
    store_.run({"SET", keys_.value(key), encode_entry(*got.entry), "PX", std::to_string(keep_ms)});
  }
}

bool RedisSharedTier::purge(const std::string& key, bool soft) {
  if (soft) {
    mark_stale(key);
    return events_.publish(CacheEvent::MarkedStale, key);
  }
  const auto deleted = store_.run({"DEL", keys_.value(key)});
  return deleted.status != Status::Unavailable && events_.publish(CacheEvent::Purged, key);
}

std::optional<SharedTier::TagPurge> RedisSharedTier::purge_tag(const std::string& tag, bool soft) {
  const std::string set = keys_.tag(tag);
  auto members = store_.run({"SMEMBERS", set});
  if (members.status != Status::Ok) return std::nullopt;
  TagPurge purged;
  for (const std::string& key : members.elements) {
    if (purge(key, soft)) ++purged.notices_sent;
  }
  if (!soft) store_.run({"DEL", set});
  purged.keys = std::move(members.elements);
  return purged;
}

void RedisSharedTier::subscribe(EventHandlers handlers) { events_.start(std::move(handlers)); }

void RedisSharedTier::unsubscribe() { events_.stop(); }

}  // namespace scalecache
