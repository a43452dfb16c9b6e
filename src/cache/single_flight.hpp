#pragma once
// In-process single-flight: the first caller for a key becomes the leader and
// does the work; callers arriving while it runs only register a callback.
// complete() hands the one result to every waiter, so concurrent misses for
// a key cost one fetch.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "util/log.hpp"

namespace scalecache {

template <typename Result>
class SingleFlight {
 public:
  using Callback = std::function<void(const Result&)>;

  explicit SingleFlight(std::size_t shards = 16) : shards_(shards) {}

  // Registers `callback`. Returns true when the caller is the leader and
  // must start the work (and later call complete()).
  bool join(const std::string& key, Callback callback) {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto [it, inserted] = shard.waiting.try_emplace(key);
    it->second.push_back(std::move(callback));
    return inserted;
  }

  // Delivers `result` to every callback registered for `key` and forgets the
  // flight; the next join() starts a new one. Callbacks run outside the lock.
  void complete(const std::string& key, const Result& result) {
    std::vector<Callback> callbacks;
    {
      Shard& shard = shard_for(key);
      std::lock_guard lock(shard.mutex);
      auto it = shard.waiting.find(key);
      if (it == shard.waiting.end()) return;
      callbacks = std::move(it->second);
      shard.waiting.erase(it);
    }
    for (auto& callback : callbacks) {
      // One waiter's failure (its client gone, say) must not cost the others their answer.
      try {
        callback(result);
      } catch (const std::exception& e) {
        log::error("answering a waiter failed", {{"error", e.what()}});
      }
    }
  }

  std::size_t in_flight() {
    std::size_t total = 0;
    for (auto& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      total += shard.waiting.size();
    }
    return total;
  }

 private:
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<Callback>> waiting;
  };

  Shard& shard_for(const std::string& key) { return shards_[std::hash<std::string>{}(key) % shards_.size()]; }

  std::vector<Shard> shards_;
};

}  // namespace scalecache
