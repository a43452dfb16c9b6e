#pragma once
// The shared tier's commands on a Redis run by Sentinel: the master is
// whichever server the sentinels name (SENTINEL get-master-addr-by-name), and
// all commands go to it through one RedisStore. A watcher thread stays
// subscribed to +switch-master on one sentinel (the next one when it fails)
// and, on a switch, replaces the store by one for the new master: pools are
// rebuilt, not re-pointed. It also asks again every few seconds and whenever
// the master is seen down, in case a switch message was missed.
//
// Stores are made with require_master, so until the switch is followed,
// connections to the old master (a replica once it comes back) are refused
// rather than written to.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "redis/redis_commands.hpp"
#include "redis/redis_store.hpp"
#include "redis/redis_url.hpp"

namespace scalecache {

class SentinelStore final : public RedisCommands {
 public:
  struct Options {
    RedisStore::Options master;  // the template of the master's store (address replaced)
    std::string master_name;
    std::vector<RedisAddress> sentinels;
    std::string sentinel_password;
  };

  // How the sentinels and the master are reached: hiredis and RedisStores, or fakes in the unit tests.
  struct Backend {
    // The master's store; it calls `on_health` as RedisStore does.
    std::function<std::shared_ptr<RedisCommands>(const RedisAddress& master, std::function<void(bool)> on_health)>
        open_master;
    // The master as `sentinel` names it; nullopt (with `error` set) when it names none or cannot be asked.
    std::function<std::optional<RedisAddress>(const RedisAddress& sentinel, std::string& error)> ask;
    // Subscribes to +switch-master on `sentinel`, calls `subscribed` once it
    // is, then `on_message` with each message's text ("<name> <old ip> <old
    // port> <new ip> <new port>") while `keep_on()` holds, asking it at least
    // every 200 ms. Returns once it does not, or when the connection fails.
    std::function<void(const RedisAddress& sentinel, const std::function<void()>& subscribed,
                       const std::function<bool()>& keep_on, const std::function<void(const std::string&)>& on_message)>
        watch;
    int64_t recheck_interval_ms = 5000;  // the master is asked for again this often even without a switch message
  };
  // RedisStores made from `options.master` with require_master; the sentinels over hiredis.
  static Backend redis_backend(const Options& options);

  SentinelStore(Options options, Backend backend, std::function<void(bool)> on_health);
  ~SentinelStore() override;
  SentinelStore(const SentinelStore&) = delete;
  SentinelStore& operator=(const SentinelStore&) = delete;

  std::vector<Reply> pipeline(const std::vector<Command>& commands) override;
  std::vector<Reply> pipeline_once_fresh(const std::vector<Command>& commands) override;
  bool up() const override;
  std::string endpoint() const override;  // "sentinel <name>" and the master, when known

  // The master's address (credentials included), for the event bus; port 0 while no sentinel has named one.
  RedisAddress master_address() const;

 private:
  std::shared_ptr<RedisCommands> current() const;
  // Asks the sentinels in turn; nullopt when none answered with an address.
  std::optional<RedisAddress> ask_sentinels();
  void follow(const RedisAddress& master);  // a new store when the master changed
  void watch_loop();
  // Follows switches announced by one sentinel until its connection breaks,
  // stop, a recheck is asked for, or the periodic one is due.
  void watch_one(const RedisAddress& sentinel);

  const Options options_;
  const Backend backend_;
  const std::function<void(bool)> on_health_;

  mutable std::mutex mutex_;
  std::shared_ptr<RedisCommands> store_;  // null until a sentinel named a master
  RedisAddress master_;
  uint64_t generation_ = 0;  // counts stores made, so a replaced store's health reports are ignored
  bool warned_ = false;      // "no sentinel named the master" logged; the constructor's, then the watcher's

  std::atomic<bool> stopping_{false};
  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  bool recheck_ = false;
  std::thread watcher_;
};

}  // namespace scalecache
