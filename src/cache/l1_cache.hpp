#pragma once
// L1: the in-process cache. Sharded by key hash, each shard an LRU list with
// its own lock; bounded by entry count and by bytes; every entry carries its
// own expiry. An entry is one allocation holding its header, key and value.
//
// Hits are read through visit(), which hands the caller a view of the entry
// while the shard is locked: the response is rendered straight from the
// cached bytes with no copy and no reference counting.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/entry.hpp"

namespace scalecache {

struct L1EntryView {
  std::string_view key;
  std::string_view data;
  const EntryMeta& meta;
  int64_t recheck_at_ms;  // past this L1 asks Redis again (bounds a missed purge)
  int64_t expires_at_ms;  // past this the entry is dropped
};

class L1Cache {
 public:
  struct Limits {
    std::size_t max_entries = 100000;  // 0 disables the cache
    std::size_t max_bytes = 256u << 20;
    std::size_t shards = 16;           // power of two
  };

  explicit L1Cache(Limits limits);
  ~L1Cache();
  L1Cache(const L1Cache&) = delete;
  L1Cache& operator=(const L1Cache&) = delete;

  bool enabled() const { return limits_.max_entries > 0 && limits_.max_bytes > 0; }

  // If `key` holds an entry that has not expired at `now_ms`, calls fn(view)
  // with the shard locked (keep fn short, don't call back into the cache)
  // and returns true. An expired entry is dropped.
  template <typename Fn>
  bool visit(std::string_view key, int64_t now_ms, Fn&& fn);

  // Inserts or replaces; evicts least recently used entries to stay in bounds.
  // An entry larger than a shard's byte budget is not stored.
  void put(std::string_view key, const EntryMeta& meta, std::string_view data, int64_t recheck_at_ms,
           int64_t expires_at_ms);

  bool erase(std::string_view key);
  // Soft purge: the entry stays (for stale-if-error) but is no longer fresh.
  bool mark_stale(std::string_view key, int64_t now_ms);
  void clear();

  std::size_t entries() const { return entries_.load(std::memory_order_relaxed); }
  std::size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

  // Bytes accounted for one entry: header, key, value and the index slot.
  static std::size_t charge(std::size_t key_size, std::size_t data_size);

 private:
  struct Node {
    Node* prev;
    Node* next;
    int64_t recheck_at_ms;
    int64_t expires_at_ms;
    EntryMeta meta;
    uint32_t key_size;
    uint32_t data_size;
    // key bytes then data bytes follow the header in the same allocation
    char* bytes() { return reinterpret_cast<char*>(this + 1); }
    std::string_view key() { return {bytes(), key_size}; }
    std::string_view data() { return {bytes() + key_size, data_size}; }
  };

  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string_view, Node*> index;
    Node lru{};  // sentinel: lru.next is the most recently used
    std::size_t bytes = 0;
  };

  Shard& shard_for(std::string_view key);
  void unlink_and_free(Shard& shard, Node* node);  // shard locked
  static void move_to_front(Shard& shard, Node* node);

  const Limits limits_;
  const std::size_t shard_max_entries_;
  const std::size_t shard_max_bytes_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::size_t> entries_{0};
  std::atomic<std::size_t> bytes_{0};
};

template <typename Fn>
bool L1Cache::visit(std::string_view key, int64_t now_ms, Fn&& fn) {
  if (!enabled()) return false;
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return false;
  Node* node = it->second;
  if (node->expires_at_ms <= now_ms) {
    unlink_and_free(shard, node);
    return false;
  }
  move_to_front(shard, node);
  fn(L1EntryView{node->key(), node->data(), node->meta, node->recheck_at_ms, node->expires_at_ms});
  return true;
}

}  // namespace scalecache
