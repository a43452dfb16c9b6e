#pragma once
// Cache events broadcast to every replica over Redis pub/sub: a key was
// filled, purged or marked stale. Each replica publishes through the shared
// pool (alone, or inside a fill's pipeline) and listens on a connection of
// its own.
//
// Pub/sub delivers at most once. A replica whose subscription broke may have
// missed messages, so `on_resubscribed` runs after every reconnect (the cache
// drops its L1 then); L1's recheck interval bounds anything else missed.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "cache/shared_tier.hpp"
#include "cache/vocabulary.hpp"
#include "redis/redis_commands.hpp"
#include "redis/redis_url.hpp"

struct redisContext;

namespace scalecache {

class EventBus {
 public:
  struct Options {
    // Where to subscribe, asked on every (re)connect: one server, or a
    // cluster node that is up (classic pub/sub reaches every node).
    std::function<RedisAddress()> address;
    std::string password;
    int64_t connect_timeout_ms;
    std::string channel;
    std::function<void()> on_subscribe_error;  // Redis refused the subscription (it is retried)
  };

  EventBus(Options options, RedisCommands& publisher);
  ~EventBus();  // stop()
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Starts listening; other replicas' events go to `handlers` on the listener thread.
  void start(SharedTier::EventHandlers handlers);
  // Stops listening and joins the listener; no handler runs after it returns.
  void stop();

  // False when Redis could not be reached.
  bool publish(CacheEvent event, std::string_view key, int64_t stamp = 0);
  // The same PUBLISH, for a caller that sends it in a pipeline with other commands.
  RedisCommands::Command publish_command(CacheEvent event, std::string_view key, int64_t stamp = 0) const;

  bool subscribed() const { return subscribed_.load(); }

 private:
  void listen_loop();
  // Connects, subscribes and delivers messages until the connection breaks
  // or stop(); false when it could not connect or subscribe.
  bool listen_once(bool& subscribed_before);
  bool subscribe(redisContext* c);
  void handle_message(std::string_view payload);

  const Options options_;
  RedisCommands& publisher_;
  SharedTier::EventHandlers handlers_;
  const std::string instance_id_;  // tags our own messages so we can skip them
  std::atomic<bool> subscribed_{false};
  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  std::thread listener_;
};

}  // namespace scalecache
