#pragma once
// What a fake backend of ClusterStore or SentinelStore opened, per port: how
// many stores, the last one held weakly (so a store its owner closed shows as
// expired) and the on_health callback it was given.

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "redis/redis_commands.hpp"

namespace scalecache::testing {

class OpenedStores {
 public:
  void add(int port, const std::shared_ptr<RedisCommands>& store, std::function<void(bool)> on_health) {
    std::lock_guard lock(mutex_);
    ++opened_[port];
    stores_[port] = store;
    health_[port] = std::move(on_health);
  }
  bool alive(int port) {
    std::lock_guard lock(mutex_);
    return !stores_[port].expired();
  }
  int opened(int port) {
    std::lock_guard lock(mutex_);
    return opened_[port];
  }
  std::function<void(bool)> on_health(int port) {
    std::lock_guard lock(mutex_);
    return health_[port];
  }

 private:
  std::mutex mutex_;
  std::map<int, int> opened_;
  std::map<int, std::weak_ptr<RedisCommands>> stores_;
  std::map<int, std::function<void(bool)>> health_;
};

}  // namespace scalecache::testing
