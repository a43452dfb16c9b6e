#include "redis/redis_store.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>

#include "redis/redis_connection.hpp"
#include "util/log.hpp"

namespace scalecache {
namespace {

using ReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

// A command as hiredis takes it: two parallel arrays of word pointers and lengths.
struct Argv {
  std::vector<const char*> words;
  std::vector<size_t> lens;
  template <typename Words>
  explicit Argv(const Words& command) {
    for (const auto& word : command) {
      words.push_back(word.data());
      lens.push_back(word.size());
    }
  }
  int count() const { return static_cast<int>(words.size()); }
};

template <typename Words>
ReplyPtr command_argv(redisContext* c, const Words& command) {
  Argv argv(command);
  return ReplyPtr(static_cast<redisReply*>(redisCommandArgv(c, argv.count(), argv.words.data(), argv.lens.data())),
                  &freeReplyObject);
}

// A reply that means the connection can no longer be trusted.
bool connection_failed(redisContext* c, const ReplyPtr& reply) { return !reply || c->err != 0; }

RedisStore::Reply to_reply(const redisReply& reply) {
  using Status = RedisStore::Status;
  RedisStore::Reply out;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.status = Status::Ok;
      out.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.status = Status::Ok;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_NIL:
      out.status = Status::Miss;
      out.nil = true;
      break;
    case REDIS_REPLY_ARRAY:
      out.status = Status::Ok;
      for (size_t i = 0; i < reply.elements; ++i) {
        const redisReply* e = reply.element[i];
        if (e->type == REDIS_REPLY_STRING) out.elements.emplace_back(e->str, e->len);
        if (e->type == REDIS_REPLY_INTEGER) out.elements_int.push_back(e->integer);
        if (e->type != REDIS_REPLY_ARRAY) continue;
        for (size_t j = 0; j < e->elements; ++j) {
          if (e->element[j]->type == REDIS_REPLY_STRING)
            out.elements.emplace_back(e->element[j]->str, e->element[j]->len);
        }
      }
      break;
    default:  // an error reply (OOM, LOADING, NOSCRIPT, ...)
      out.text.assign(reply.str != nullptr ? reply.str : "", reply.str != nullptr ? reply.len : 0);
      break;
  }
  return out;
}

// Sends `commands` in one write and reads their replies into `replies` (one
// per command, in order). False when the connection failed: the replies not
// read by then stay Unavailable (their commands may or may not have run).
bool exchange(redisContext* c, const std::vector<RedisStore::Command>& commands,
              std::vector<RedisStore::Reply>& replies) {
  for (const RedisStore::Command& command : commands) {
    Argv argv(command);
    redisAppendCommandArgv(c, argv.count(), argv.words.data(), argv.lens.data());
  }
  for (RedisStore::Reply& out : replies) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) return false;
    out = to_reply(*ReplyPtr(static_cast<redisReply*>(raw), &freeReplyObject));
  }
  return true;
}

}  // namespace

// Checks a connection out of the pool and back in, dropping it if a command
// on it failed (hiredis contexts are dead after any error).
class RedisStore::Lease {
 public:
  Lease(RedisStore& store) : store_(store), context_(store.acquire()) {}
  ~Lease() {
    if (context_ != nullptr) store_.release(context_, healthy_);
  }
  redisContext* get() const { return context_; }
  void mark_broken() { healthy_ = false; }
  void mark_healthy() { healthy_ = true; }

 private:
  RedisStore& store_;
  redisContext* context_;
  bool healthy_ = true;
};

RedisStore::Options RedisStore::Options::from(const RedisConfig& config) {
  constexpr int64_t kHealthIntervalMs = 1000;
  // Without a URL (cluster, sentinel) the address is filled in per server later.
  RedisAddress address = config.url.empty() ? RedisAddress{} : parse_redis_url(config.url);
  if (address.username.empty()) address.username = config.username;
  return {std::move(address),
          config.password,
          config.timeout_ms,
          config.connect_timeout_ms,
          static_cast<std::size_t>(config.pool_size),
          static_cast<int>(config.breaker_failures),
          config.backoff_min_ms,
          config.backoff_max_ms,
          kHealthIntervalMs,
          {}};
}

RedisStore::RedisStore(Options options, std::function<void(bool)> on_health)
    : options_(std::move(options)), on_health_(std::move(on_health)) {
  // The first health check runs now, so /metrics and the log say at start-up
  // whether Redis answers.
  health_thread_ = std::thread([this] { health_loop(); });
}

RedisStore::~RedisStore() {
  {
    std::lock_guard lock(health_mutex_);
    stopping_ = true;
  }
  health_cv_.notify_all();
  health_thread_.join();
  std::lock_guard lock(pool_mutex_);
  for (auto* c : idle_) redisFree(c);
  idle_.clear();
}

std::string RedisStore::endpoint() const { return endpoint_of(options_.address); }

redisContext* RedisStore::connect() {
  std::string error;
  redisContext* c =
      connect_redis(options_.address, options_.password, options_.connect_timeout_ms, options_.timeout_ms, error);
  if (c != nullptr && options_.require_master && !is_master(c, error)) {
    redisFree(c);
    c = nullptr;
  }
  if (c == nullptr && !logged_outage_.exchange(true)) {
    log::warn("redis unavailable; serving from L1 and the origin", {{"redis", endpoint()}, {"reason", error}});
  }
  return c;
}

redisContext* RedisStore::connect_with_scripts() {
  redisContext* c = connect();
  for (const std::string& script : options_.scripts) {
    if (c == nullptr) break;
    const ReplyPtr reply = command_argv(c, std::array<std::string_view, 3>{"SCRIPT", "LOAD", script});
    if (connection_failed(c, reply) || reply->type == REDIS_REPLY_ERROR) {
      log::warn("redis refused to load a script; its commands fail until it does",
                {{"redis", endpoint()}, {"reason", reply && reply->str != nullptr ? reply->str : "connection lost"}});
      redisFree(c);
      c = nullptr;
    }
  }
  return c;
}

redisContext* RedisStore::acquire() {
  if (breaker_open_.load(std::memory_order_relaxed)) return nullptr;
  std::unique_lock lock(pool_mutex_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  while (idle_.empty() && open_connections_ >= options_.pool_size) {
    if (pool_cv_.wait_until(lock, deadline) == std::cv_status::timeout) return nullptr;
  }
  if (!idle_.empty()) {
    redisContext* c = idle_.back();
    idle_.pop_back();
    return c;
  }
  ++open_connections_;
  lock.unlock();
  redisContext* c = connect_with_scripts();
  if (c == nullptr) {
    record(false);
    std::lock_guard relock(pool_mutex_);
    --open_connections_;
    pool_cv_.notify_one();
  }
  return c;
}

void RedisStore::release(redisContext* context, bool healthy) {
  {
    std::lock_guard lock(pool_mutex_);
    if (healthy) {
      idle_.push_back(context);
    } else {
      redisFree(context);
      --open_connections_;
    }
  }
  pool_cv_.notify_one();
}

void RedisStore::drop_idle() {
  // After an outage the pooled connections are most likely dead (a restarted
  // Redis closed them): reconnecting beats failing one request on each.
  std::lock_guard lock(pool_mutex_);
  for (auto* c : idle_) redisFree(c);
  open_connections_ -= idle_.size();
  idle_.clear();
}

void RedisStore::record(bool success) {
  if (success) {
    consecutive_failures_.store(0, std::memory_order_relaxed);
    if (!up()) set_up(true);
    return;
  }
  if (consecutive_failures_.fetch_add(1) + 1 >= options_.breaker_failures && !breaker_open_.exchange(true)) {
    drop_idle();
    set_up(false);
    health_cv_.notify_all();  // start probing with backoff now
  }
}

void RedisStore::set_up(bool up) {
  if (up_.exchange(up) == up) return;
  if (up) {
    logged_outage_.store(false);
    log::info("redis up", {{"redis", endpoint()}});
  } else {
    log::warn("redis down; serving from L1 and the origin", {{"redis", endpoint()}});
  }
  if (on_health_) on_health_(up);
}

std::vector<RedisStore::Reply> RedisStore::pipeline_once_fresh(const std::vector<Command>& commands) {
  std::vector<Reply> replies(commands.size());
  if (commands.empty()) return replies;
  redisContext* c = connect_with_scripts();
  if (c == nullptr) return replies;
  exchange(c, commands, replies);  // the connection is closed either way
  redisFree(c);
  return replies;
}

std::vector<RedisStore::Reply> RedisStore::pipeline(const std::vector<Command>& commands) {
  std::vector<Reply> replies(commands.size());
  if (commands.empty()) return replies;
  Lease lease(*this);
  redisContext* c = lease.get();
  if (c == nullptr) return replies;
  // Until every reply is read, the connection must not go back to the pool:
  // if anything throws on the way, the next user would read our replies.
  lease.mark_broken();
  if (!exchange(c, commands, replies)) {
    record(false);  // the replies not read yet are lost with the connection
    return replies;
  }
  record(true);
  // NOSCRIPT: this server lost its scripts (SCRIPT FLUSH). Dropping the
  // connection makes the next one load them again.
  const bool scripts_lost = std::any_of(replies.begin(), replies.end(), [](const Reply& r) {
    return r.status == Status::Unavailable && r.text.starts_with("NOSCRIPT");
  });
  if (!scripts_lost) lease.mark_healthy();
  return replies;
}

void RedisStore::health_loop() {
  int64_t backoff = options_.backoff_min_ms;
  for (;;) {
    // A fresh connection per probe: it tests exactly what a reconnect would.
    redisContext* c = connect();
    bool ok = false;
    if (c != nullptr) {
      ReplyPtr reply = command_argv(c, std::array<std::string_view, 1>{"PING"});
      ok = !connection_failed(c, reply) && reply->type != REDIS_REPLY_ERROR;
      redisFree(c);
    }
    if (ok) {
      backoff = options_.backoff_min_ms;
      consecutive_failures_.store(0);
      breaker_open_.store(false);
      set_up(true);
    } else {
      breaker_open_.store(true);
      drop_idle();
      set_up(false);
    }
    const int64_t wait_ms = ok ? options_.health_interval_ms : backoff;
    if (!ok) backoff = std::min(backoff * 2, options_.backoff_max_ms);
    std::unique_lock lock(health_mutex_);
    // Woken early when the breaker opens, so recovery probing starts at once.
    const bool was_open = breaker_open_.load();
    health_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                        [&] { return stopping_ || (!was_open && breaker_open_.load()); });
    if (stopping_) return;
  }
}

}  // namespace scalecache
