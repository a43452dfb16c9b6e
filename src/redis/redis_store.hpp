#pragma once
// L2: the Redis every replica shares. A small pool of hiredis connections,
// each command bounded by a timeout, and a circuit breaker: after a run of
// failures commands fail fast (as misses) and only a background health check
// talks to Redis, backing off exponentially until it answers again. Nothing
// here throws or blocks longer than the configured timeouts.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "redis/redis_commands.hpp"
#include "redis/redis_url.hpp"

struct redisContext;

namespace scalecache {

class RedisStore final : public RedisCommands {
 public:
  struct Options {
    RedisAddress address;
    std::string password;  // used when the address has none
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    std::size_t pool_size;
    int breaker_failures;
    int64_t backoff_min_ms;
    int64_t backoff_max_ms;
    int64_t health_interval_ms;
    std::vector<std::string> scripts;  // Lua sources to SCRIPT LOAD on every command connection
    // Sentinel mode: a connection to a server whose ROLE is not master is
    // refused, so a failover the store has not followed yet never sends a
    // write to what is now a replica.
    bool require_master = false;

    static Options from(const RedisConfig& config);  // address from config.url, when it has one
  };

  // `on_health` is called with true/false whenever Redis is seen up or down.
  RedisStore(Options options, std::function<void(bool)> on_health);
  ~RedisStore() override;
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  // Several commands in one round trip on one connection, run by Redis in
  // order. If the connection fails, the replies not read by then are
  // Unavailable (their commands may or may not have run).
  std::vector<Reply> pipeline(const std::vector<Command>& commands) override;
  std::vector<Reply> pipeline_once_fresh(const std::vector<Command>& commands) override;

  bool up() const override { return up_.load(std::memory_order_relaxed); }
  std::string endpoint() const override;  // host:port, never the password

 private:
  class Lease;
  friend class Lease;

  redisContext* connect();               // nullptr on failure; logs the reason once per outage
  redisContext* connect_with_scripts();  // connect(), then SCRIPT LOAD of options_.scripts
  redisContext* acquire();               // nullptr when none can be had within the timeout
  void release(redisContext* context, bool healthy);
  void record(bool success);
  void drop_idle();
  void health_loop();
  void set_up(bool up);

  const Options options_;
  const std::function<void(bool)> on_health_;

  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<redisContext*> idle_;
  std::size_t open_connections_ = 0;

  std::atomic<bool> up_{false};
  std::atomic<bool> breaker_open_{false};
  std::atomic<int> consecutive_failures_{0};
  std::atomic<bool> logged_outage_{false};

  std::mutex health_mutex_;
  std::condition_variable health_cv_;
  bool stopping_ = false;
  std::thread health_thread_;
};

}  // namespace scalecache
