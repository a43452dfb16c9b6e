#include "redis/sentinel/sentinel_store.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <utility>

#include "redis/redis_connection.hpp"
#include "util/log.hpp"

namespace scalecache {
namespace {

using ReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;
using ContextPtr = std::unique_ptr<redisContext, decltype(&redisFree)>;

constexpr int kPollMs = 200;

std::string text_of(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
}

ContextPtr connect_sentinel(const SentinelStore::Options& options, const RedisAddress& sentinel, std::string& error) {
  RedisAddress address = sentinel;  // sentinels have their own password and no ACL user of ours
  address.username.clear();
  return {connect_redis(address, options.sentinel_password, options.master.connect_timeout_ms,
                        options.master.timeout_ms, error),
          &redisFree};
}

std::optional<RedisAddress> ask_sentinel(const SentinelStore::Options& options, const RedisAddress& sentinel,
                                         std::string& error) {
  const ContextPtr c = connect_sentinel(options, sentinel, error);
  if (!c) return std::nullopt;
  const ReplyPtr reply(static_cast<redisReply*>(
                           redisCommand(c.get(), "SENTINEL get-master-addr-by-name %s", options.master_name.c_str())),
                       &freeReplyObject);
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
    error = reply && reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "no such master";
    return std::nullopt;
  }
  RedisAddress master;
  master.host = text_of(reply->element[0]);
  const std::string port = text_of(reply->element[1]);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), master.port);
  if (!master.host.empty() && ec == std::errc() && end == port.data() + port.size() && master.port > 0) return master;
  error = "unreadable address";
  return std::nullopt;
}

void watch_sentinel(const SentinelStore::Options& options, const RedisAddress& sentinel,
                    const std::function<void()>& subscribed, const std::function<bool()>& keep_on,
                    const std::function<void(const std::string&)>& on_message) {
  std::string error;
  const ContextPtr c = connect_sentinel(options, sentinel, error);
  if (!c) return;
  const ReplyPtr reply(static_cast<redisReply*>(redisCommand(c.get(), "SUBSCRIBE +switch-master")), &freeReplyObject);
  if (!reply || reply->type != REDIS_REPLY_ARRAY) return;
  subscribed();
  while (keep_on()) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(c.get(), &raw) != REDIS_OK) return;
    if (raw != nullptr) {
      // ["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]
      const ReplyPtr message(static_cast<redisReply*>(raw), &freeReplyObject);
      if (message->type == REDIS_REPLY_ARRAY && message->elements == 3) on_message(text_of(message->element[2]));
      continue;
    }
    pollfd pfd{c->fd, POLLIN, 0};
    const int ready = poll(&pfd, 1, kPollMs);
    if (ready < 0 && errno != EINTR) return;
    if (ready > 0 && redisBufferRead(c.get()) != REDIS_OK) return;
  }
}

}  // namespace

SentinelStore::Backend SentinelStore::redis_backend(const Options& options) {
  Backend backend;
  backend.open_master = [store = options.master](const RedisAddress& master, std::function<void(bool)> on_health) {
    RedisStore::Options master_store = store;
    master_store.address.host = master.host;
    master_store.address.port = master.port;
    master_store.require_master = true;
    return std::make_shared<RedisStore>(std::move(master_store), std::move(on_health));
  };
  backend.ask = [options](const RedisAddress& sentinel, std::string& error) {
    return ask_sentinel(options, sentinel, error);
  };
  backend.watch = [options](const RedisAddress& sentinel, const std::function<void()>& subscribed,
                            const std::function<bool()>& keep_on,
                            const std::function<void(const std::string&)>& on_message) {
    watch_sentinel(options, sentinel, subscribed, keep_on, on_message);
  };
  return backend;
}

SentinelStore::SentinelStore(Options options, Backend backend, std::function<void(bool)> on_health)
    : options_(std::move(options)), backend_(std::move(backend)), on_health_(std::move(on_health)) {
  // The master is known before the first request where a sentinel answers at once.
  if (auto master = ask_sentinels()) follow(*master);
  watcher_ = std::thread([this] { watch_loop(); });
}

SentinelStore::~SentinelStore() {
  stopping_.store(true);
  wake_cv_.notify_all();
  watcher_.join();
  // The store's health thread reports through this object (mutex_, wake_mutex_): it stops while they still exist.
  std::shared_ptr<RedisCommands> store;
  {
    std::lock_guard lock(mutex_);
    store.swap(store_);
  }
}

std::shared_ptr<RedisCommands> SentinelStore::current() const {
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

std::optional<RedisAddress> SentinelStore::ask_sentinels() {
  std::string error;
  for (const RedisAddress& sentinel : options_.sentinels) {
    if (auto master = backend_.ask(sentinel, error)) {
      warned_ = false;
      return master;
    }
  }
  // Once per outage: the watcher asks again every few hundred milliseconds.
  if (!std::exchange(warned_, true)) {
    log::warn("no sentinel named the master", {{"master_name", options_.master_name}, {"reason", error}});
  }
  return std::nullopt;
}

void SentinelStore::follow(const RedisAddress& master) {
  std::shared_ptr<RedisCommands> old;
  {
    std::lock_guard lock(mutex_);
    if (store_ && master_.host == master.host && master_.port == master.port) return;
    const uint64_t generation = ++generation_;
    old = std::move(store_);
    master_ = master;
    store_ = backend_.open_master(master, [this, generation](bool up) {
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
  const auto recheck_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(backend_.recheck_interval_ms);
  backend_.watch(
      sentinel,
      // Between the ask before and this subscription a switch could have been missed: ask again now.
      [this] {
        if (auto master = ask_sentinels()) follow(*master);
      },
      [this, recheck_at] {
        if (stopping_.load() || std::chrono::steady_clock::now() >= recheck_at) return false;
        std::lock_guard lock(wake_mutex_);
        return !recheck_;
      },
      [this](const std::string& text) {
        if (!text.starts_with(options_.master_name + " ")) return;
        log::info("sentinel switch-master", {{"switch", text}});
        if (auto master = ask_sentinels()) follow(*master);
      });
}

}  // namespace scalecache
