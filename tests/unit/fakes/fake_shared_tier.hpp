#pragma once
// An in-memory shared tier for unit tests: one FakeSharedStore plays the
// Redis every replica shares; each replica gets its own FakeSharedTier
// handle, so events reach the other replicas and not the sender, as with
// pub/sub. Events are delivered at once on the sender's thread. Time is the
// test's clock; leases never expire unless the test expires them.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "cache/freshness.hpp"
#include "cache/shared_tier.hpp"

namespace scalecache::testing {

class FakeSharedTier;

class FakeSharedStore {
 public:
  explicit FakeSharedStore(std::function<int64_t()> now_ms) : now_ms_(std::move(now_ms)) {}

  std::atomic<bool> available{true};
  std::atomic<int> leases_refused{0};  // take_lease answered HeldElsewhere
  std::atomic<int> fills{0};
  std::atomic<int> wait_state_failures{0};  // wait_states() throws this many more times
  std::atomic<int> wait_looks{0};           // wait_states() calls: a waiter looked
  // Round trips a miss may make before its fill: lookup() calls (reads, with
  // the lease step or not), keys asked with the lease step, those that ran
  // it (no servable entry), and take_lease() calls.
  std::atomic<int> lookups{0};
  std::atomic<int> lease_asks{0};
  std::atomic<int> lookup_leases{0};
  std::atomic<int> lease_calls{0};

  std::optional<Entry> entry(const std::string& key) {
    std::lock_guard lock(mutex_);
    return live_entry(key);
  }
  void put(const std::string& key, const Entry& entry) {
    std::lock_guard lock(mutex_);
    entries_[key] = entry;
  }
  bool lease_held(const std::string& key) {
    std::lock_guard lock(mutex_);
    return leases_.contains(key);
  }
  // Another replica (or one that died) holds the lease.
  void hold_lease(const std::string& key, const std::string& token) {
    std::lock_guard lock(mutex_);
    leases_[key] = token;
  }
  void expire_lease(const std::string& key) {
    std::lock_guard lock(mutex_);
    leases_.erase(key);
  }
  std::set<std::string> tag_members(const std::string& tag) {
    std::lock_guard lock(mutex_);
    return tags_[tag];
  }

 private:
  friend class FakeSharedTier;

  std::optional<Entry> live_entry(const std::string& key) {  // mutex_ held
    auto it = entries_.find(key);
    if (it == entries_.end() || keep_until_ms(it->second.meta) <= now_ms_()) return std::nullopt;
    return it->second;
  }
  void broadcast(const FakeSharedTier* sender, CacheEvent event, const std::string& key, int64_t stamp);

  std::function<int64_t()> now_ms_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> leases_;
  std::map<std::string, int64_t> generations_;  // purges per key
  std::set<std::string> bypass_;                // keys whose last answer could not be cached
  std::set<std::string> failed_;                // keys whose job was dead-lettered
  std::map<std::string, std::set<std::string>> tags_;
  std::vector<FakeSharedTier*> replicas_;
  int next_token_ = 0;
};

class FakeSharedTier final : public SharedTier {
 public:
  explicit FakeSharedTier(FakeSharedStore& store) : store_(store) {
    std::lock_guard lock(store_.mutex_);
    store_.replicas_.push_back(this);
  }
  ~FakeSharedTier() override {
    std::lock_guard lock(store_.mutex_);
    std::erase(store_.replicas_, this);
  }

  std::vector<Lookup> lookup(const std::vector<LookupAsk>& asks, int64_t now_ms) override {
    ++store_.lookups;
    std::vector<Lookup> found(asks.size());
    if (!store_.available) return found;
    std::lock_guard lock(store_.mutex_);
    for (std::size_t i = 0; i < asks.size(); ++i) {
      Read& read = found[i].read;
      read.entry = store_.live_entry(asks[i].key);
      read.status = read.entry ? ReadStatus::Found : ReadStatus::Missing;
      if (asks[i].lease) ++store_.lease_asks;
      if (!asks[i].lease || (read.entry && now_ms < servable_until_ms(read.entry->meta))) continue;
      ++store_.lookup_leases;
      found[i].lease_outcome = take_lease_locked(asks[i].key, found[i].lease);
    }
    return found;
  }

  LeaseOutcome take_lease(const std::string& key, Lease& lease) override {
    lease.token.clear();
    if (!store_.available) return LeaseOutcome::Unavailable;
    ++store_.lease_calls;
    std::lock_guard lock(store_.mutex_);
    return take_lease_locked(key, lease);
  }

  void release_lease(const std::string& key, const std::string& token) override {
    if (token.empty() || !store_.available) return;
    std::lock_guard lock(store_.mutex_);
    if (auto it = store_.leases_.find(key); it != store_.leases_.end() && it->second == token) store_.leases_.erase(it);
  }

  std::vector<WaitState> wait_states(const std::vector<std::string>& keys) override {
    ++store_.wait_looks;
    if (store_.wait_state_failures.load() > 0) {
      --store_.wait_state_failures;
      throw std::bad_alloc();
    }
    std::vector<WaitState> states(keys.size());
    if (!store_.available) return states;
    std::lock_guard lock(store_.mutex_);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      states[i] = {false, store_.live_entry(keys[i]).has_value(), store_.leases_.contains(keys[i]),
                   store_.bypass_.contains(keys[i]), store_.failed_.contains(keys[i])};
    }
    return states;
  }

  FillResult store_fill(const std::string& key, const Entry& entry, const std::vector<std::string>& tags,
                        const Lease& lease) override {
    if (!store_.available) return {};
    bool stored = false;
    {
      std::lock_guard lock(store_.mutex_);
      if (lease.generation && *lease.generation == store_.generations_[key]) {
        store_.entries_[key] = entry;
        store_.bypass_.erase(key);
        stored = true;
        ++store_.fills;
      }
      for (const auto& tag : tags) store_.tags_[tag].insert(key);
    }
    if (stored) store_.broadcast(this, CacheEvent::Filled, key, entry.meta.stored_at_ms);
    release_lease(key, lease.token);
    return {stored ? FillOutcome::Stored : FillOutcome::Superseded, true};
  }

  void mark_uncacheable(const std::string& key, const Lease& lease) override {
    mark(store_.bypass_, key, lease, CacheEvent::Uncacheable);
  }

  bool extend_lease(const std::string& key, const std::string& token, int64_t /*ttl_ms*/) override {
    if (!store_.available) return false;
    std::lock_guard lock(store_.mutex_);
    auto it = store_.leases_.find(key);
    return it != store_.leases_.end() && it->second == token;
  }

  void mark_failed(const std::string& key, const Lease& lease) override {
    mark(store_.failed_, key, lease, CacheEvent::Failed);
  }

  bool purge(const std::string& key, bool soft) override {
    if (!store_.available) return false;
    {
      std::lock_guard lock(store_.mutex_);
      ++store_.generations_[key];
      if (!soft) {
        store_.entries_.erase(key);
      } else if (auto it = store_.entries_.find(key); it != store_.entries_.end()) {
        mark_stale(it->second.meta, store_.now_ms_());
      }
    }
    store_.broadcast(this, soft ? CacheEvent::MarkedStale : CacheEvent::Purged, key, 0);
    return true;
  }

  TagPurge purge_tag(const std::string& tag, bool soft) override {
    TagPurge purged;
    if (!store_.available) return purged;
    for (const auto& key : store_.tag_members(tag)) {
      purge(key, soft);
      purged.keys.push_back(key);
      ++purged.notices_sent;
    }
    purged.complete = true;
    return purged;
  }

  void subscribe(EventHandlers handlers) override {
    std::lock_guard lock(mutex_);
    handlers_ = std::move(handlers);
  }
  void unsubscribe() override {
    std::lock_guard lock(mutex_);
    handlers_ = {};
  }

  void deliver(CacheEvent event, const std::string& key, int64_t stamp) {
    std::lock_guard lock(mutex_);  // unsubscribe() waits for a handler that runs
    if (handlers_.on_event) handlers_.on_event(event, key, stamp);
  }

 private:
  LeaseOutcome take_lease_locked(const std::string& key, Lease& lease) {  // store_.mutex_ held
    lease.token.clear();
    lease.generation = store_.generations_[key];
    if (store_.bypass_.contains(key)) return LeaseOutcome::Bypass;
    auto [it, inserted] = store_.leases_.try_emplace(key, "token-" + std::to_string(++store_.next_token_));
    if (!inserted) {
      ++store_.leases_refused;
      return LeaseOutcome::HeldElsewhere;
    }
    lease.token = it->second;
    store_.failed_.erase(key);
    return LeaseOutcome::Acquired;
  }

  // Puts `key` in one of the store's marker sets, releases the lease and tells the others.
  void mark(std::set<std::string>& markers, const std::string& key, const Lease& lease, CacheEvent event) {
    if (!store_.available) return;
    {
      std::lock_guard lock(store_.mutex_);
      markers.insert(key);
    }
    release_lease(key, lease.token);
    store_.broadcast(this, event, key, 0);
  }

  FakeSharedStore& store_;
  std::mutex mutex_;
  EventHandlers handlers_;
};

inline void FakeSharedStore::broadcast(const FakeSharedTier* sender, CacheEvent event, const std::string& key,
                                       int64_t stamp) {
  std::vector<FakeSharedTier*> others;
  {
    std::lock_guard lock(mutex_);
    for (auto* replica : replicas_) {
      if (replica != sender) others.push_back(replica);
    }
  }
  for (auto* replica : others) replica->deliver(event, key, stamp);
}

}  // namespace scalecache::testing
