#include "redis/sentinel/sentinel_store.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <charconv>
#include <chrono>
#include <utility>

#include "redis/redis_connection.hpp"
#include "util/log.hpp"

namespace scalecache {
namespace {

using ReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

// The master is asked for again this often even without a switch message.
constexpr auto kRecheckInterval = std::chrono::seconds(5);
constexpr int kPollMs = 200;

std::string text_of(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
}

}  // namespace

SentinelStore::SentinelStore(Options options, std::function<void(bool)> on_health)
    : options_(std::move(options)), on_health_(std::move(on_health)) {
  // The master is known before the first request where a sentinel answers at once.
  if (auto master = ask_sentinels()) follow(*master);
  watcher_ = std::thread([this] { watch_loop(); });
}

SentinelStore::~SentinelStore() {
  stopping_.store(true);
  wake_cv_.notify_all();
  watcher_.join();
}

std::shared_ptr<RedisStore> SentinelStore::current() const {
  std::lock_guard lock(mutex_);
  return store_;
}

std::vector<RedisCommands::Reply> SentinelStore::pipeline(const std::vector<Command>& commands) {
  const auto store = current();
  return store ? store->pipeline(commands) : std::vector<Reply>(commands.size());
}

std::vector<RedisCommands::Reply> SentinelStore::pipeline_once_fresh(const std::vector<Command>& commands) {
  const auto store = current();
  return store ? store->pipeline_once_fresh(commands) : std::vector<Reply>(commands.size());
}

bool SentinelStore::up() const {
  const auto store = current();
  return store && store->up();
}

std::string SentinelStore::endpoint() const {
  std::lock_guard lock(mutex_);
  return "sentinel " + options_.master_name + (store_ ? " at " + endpoint_of(master_) : std::string());
}

RedisAddress SentinelStore::master_address() const {
  std::lock_guard lock(mutex_);
  RedisAddress address = options_.master.address;
  // No master named yet: port 0 fails to connect, and the caller tries again later.
  address.host = store_ ? master_.host : "127.0.0.1";
  address.port = store_ ? master_.port : 0;
  return address;
}

redisContext* SentinelStore::connect_sentinel(const RedisAddress& sentinel, std::string& error) const {
  RedisAddress address = sentinel;  // sentinels have their own password and no ACL user of ours
  address.username.clear();
  return connect_redis(address, options_.sentinel_password, options_.master.connect_timeout_ms,
                       options_.master.timeout_ms, error);
}

std::optional<RedisAddress> SentinelStore::ask_sentinels() {
  std::string error;
  for (const RedisAddress& sentinel : options_.sentinels) {
    std::unique_ptr<redisContext, decltype(&redisFree)> c(connect_sentinel(sentinel, error), &redisFree);
    if (!c) continue;
    const ReplyPtr reply(static_cast<redisReply*>(redisCommand(c.get(), "SENTINEL get-master-addr-by-name %s",
                                                               options_.master_name.c_str())),
                         &freeReplyObject);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      error = reply && reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "no such master";
      continue;
    }
    RedisAddress master;
    master.host = text_of(reply->element[0]);
    const std::string port = text_of(reply->element[1]);
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), master.port);
    if (!master.host.empty() && ec == std::errc() && end == port.data() + port.size() && master.port > 0) {
      warned_ = false;
      return master;
    }
    error = "unreadable address";
  }
  // Once per outage: the watcher asks again every few hundred milliseconds.
  if (!std::exchange(warned_, true)) {
    log::warn("no sentinel named the master", {{"master_name", options_.master_name}, {"reason", error}});
  }
  return std::nullopt;
}

void SentinelStore::follow(const RedisAddress& master) {
  std::shared_ptr<RedisStore> old;
  {
    std::lock_guard lock(mutex_);
    if (store_ && master_.host == master.host && master_.port == master.port) return;
    const uint64_t generation = ++generation_;
    RedisStore::Options options = options_.master;
    options.address.host = master.host;
    options.address.port = master.port;
    options.require_master = true;
    old = std::move(store_);
    master_ = master;
    store_ = std::make_shared<RedisStore>(std::move(options), [this, generation](bool up) {
      {
        std::lock_guard current(mutex_);
        if (generation != generation_) return;  // a store already replaced: its news is old
      }
      if (on_health_) on_health_(up);
      if (!up) {  // the master may have failed over while no switch message reached us
        {
          std::lock_guard wake(wake_mutex_);
          recheck_ = true;
        }
        wake_cv_.notify_all();
      }
    });
  }
  log::info("redis master from the sentinels", {{"master_name", options_.master_name}, {"redis", endpoint_of(master)}});
  // `old` is freed here or by the last request still using it; its health thread stops with it.
}

void SentinelStore::watch_loop() {
  std::size_t next = 0;
  while (!stopping_.load()) {
    watch_one(options_.sentinels[next++ % options_.sentinels.size()]);
    if (stopping_.load()) return;
    std::unique_lock lock(wake_mutex_);
    // A short pause when a sentinel connection failed, so a dead one is not hammered.
    wake_cv_.wait_for(lock, std::chrono::milliseconds(kPollMs), [this] { return stopping_.load() || recheck_; });
    recheck_ = false;
  }
}

void SentinelStore::watch_one(const RedisAddress& sentinel) {
  std::string error;
  std::unique_ptr<redisContext, decltype(&redisFree)> c(connect_sentinel(sentinel, error), &redisFree);
  if (!c) return;
  const ReplyPtr subscribed(static_cast<redisReply*>(redisCommand(c.get(), "SUBSCRIBE +switch-master")),
                            &freeReplyObject);
  if (!subscribed || subscribed->type != REDIS_REPLY_ARRAY) return;
  // Between the ask above and this subscription a switch could have been missed: ask again now.
  if (auto master = ask_sentinels()) follow(*master);
  const auto recheck_at = std::chrono::steady_clock::now() + kRecheckInterval;
  while (!stopping_.load() && std::chrono::steady_clock::now() < recheck_at) {
    {
      std::lock_guard lock(wake_mutex_);
      if (recheck_) return;
    }
    void* raw = nullptr;
    if (redisGetReplyFromReader(c.get(), &raw) != REDIS_OK) return;
    if (raw != nullptr) {
      // ["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]
      const ReplyPtr message(static_cast<redisReply*>(raw), &freeReplyObject);
      if (message->type == REDIS_REPLY_ARRAY && message->elements == 3) {
        const std::string text = text_of(message->element[2]);
        if (text.starts_with(options_.master_name + " ")) {
          log::info("sentinel switch-master", {{"switch", text}});
          if (auto master = ask_sentinels()) follow(*master);
        }
      }
      continue;
    }
    pollfd pfd{c->fd, POLLIN, 0};
    const int ready = poll(&pfd, 1, kPollMs);
    if (ready < 0 && errno != EINTR) return;
    if (ready > 0 && redisBufferRead(c.get()) != REDIS_OK) return;
  }
}

}  // namespace scalecache
