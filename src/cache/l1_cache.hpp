#pragma once
// L1: the in-process cache. Sharded by key hash, each shard an LRU list with
// its own lock; bounded by entry count and by bytes. An entry is one
// allocation holding a compact header, the key and the value; the index is an
// open-addressing hash set of pointers to those entries (absl::flat_hash_set),
// so a cached key costs well under 100 bytes beyond its key and value.
//
// Hits are read through visit(), which hands the caller a view of the entry
// while the shard is locked: the response is rendered straight from the
// cached bytes with no copy and no reference counting.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_set.h>

#include "cache/entry.hpp"
#include "config/config.hpp"

namespace scalecache {

struct L1EntryView {
  std::string_view key;
  std::string_view data;
  EntryMeta meta;
  int64_t recheck_at_ms;  // past this L1 asks Redis again (bounds a missed purge)
};

class L1Cache {
 public:
  struct Limits {
    std::size_t max_entries;  // 0 disables the cache
    std::size_t max_bytes;
    std::size_t shards;        // power of two
    int64_t recheck_after_ms;  // cache.l1_ttl_seconds, capped by the TTL

    // L1 re-reads Redis after l1_ttl_seconds: that bounds how long a replica
    // that missed a purge message can serve the purged value.
    static Limits from(const CacheConfig& config);
  };

  explicit L1Cache(Limits limits);
  ~L1Cache();
  L1Cache(const L1Cache&) = delete;
  L1Cache& operator=(const L1Cache&) = delete;

  bool enabled() const { return limits_.max_entries > 0 && limits_.max_bytes > 0; }

  // If `key` holds an entry still worth keeping at `now_ms` (inside its TTL
  // or stale windows), calls fn(view) with the shard locked (keep fn short,
  // don't call back into the cache) and returns true. An entry past its
  // windows is dropped.
  template <typename Fn>
  bool visit(std::string_view key, int64_t now_ms, Fn&& fn);

  // Inserts or replaces; evicts least recently used entries to stay in bounds.
  // An entry larger than a shard's byte budget, or already past its windows,
  // is not stored.
  void put(std::string_view key, const EntryMeta& meta, std::string_view data, int64_t now_ms);

  bool erase(std::string_view key);
  // Erases the entry only if it was stored before `stored_at_ms`.
  bool erase_if_older(std::string_view key, int64_t stored_at_ms);
  // Soft purge: the entry stays (for stale-if-error) but is no longer fresh.
  bool mark_stale(std::string_view key, int64_t now_ms);
  void clear();

  std::size_t entries() const { return entries_.load(std::memory_order_relaxed); }
  std::size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

  // Bytes accounted for one entry: its allocation and its index slot.
  static std::size_t charge(std::size_t key_size, std::size_t data_size);

 private:
  // A millisecond time in 48 bits, about ±4,400 years around 1970: three of
  // them take 18 bytes where int64_t takes 24. Values outside saturate; put()
  // refuses an entry whose own times do not fit, so only a clock that far off
  // could meet the bound.
  class Ms48 {
   public:
    static constexpr int64_t kMax = (int64_t{1} << 47) - 1;
    static constexpr int64_t kMin = -(int64_t{1} << 47);
    static bool fits(int64_t ms) { return ms >= kMin && ms <= kMax; }
    void set(int64_t ms);
    int64_t get() const {  // inline: every hit reads the times
      const uint64_t bits = uint64_t{parts_[0]} | uint64_t{parts_[1]} << 16 | uint64_t{parts_[2]} << 32;
      return static_cast<int64_t>(bits << 16) >> 16;  // sign-extended from bit 47
    }

   private:
    std::array<uint16_t, 3> parts_;
  };

  // EntryMeta packed; the expiry is derived from it, not stored. 4-byte
  // packing: a 64-bit-aligned header would carry 4 bytes of padding, and the
  // header is paid once per entry (see charge()).
#pragma pack(push, 4)
  struct Node {
    Node* prev;
    Node* next;
    uint64_t etag;
    Ms48 stored_at_ms;
    Ms48 fresh_until_ms;
    Ms48 recheck_at_ms;  // set when L1 stores the entry, not when the origin made it
    uint16_t key_size;   // cache.max_key_bytes is at most 8192
    int32_t compute_ms;
    int32_t stale_while_revalidate_s;
    int32_t stale_if_error_s;
    uint32_t data_size : 31;
    uint32_t negative : 1;
    // key bytes then data bytes follow the header in the same allocation
    char* bytes() { return reinterpret_cast<char*>(this + 1); }
    std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size}; }
    std::string_view data() const { return {reinterpret_cast<const char*>(this + 1) + key_size, data_size}; }
    EntryMeta meta() const;
    int64_t expires_at_ms() const;
  };
#pragma pack(pop)

  // The index stores Node pointers but is searched by key.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const { return absl::Hash<std::string_view>{}(key); }
    std::size_t operator()(const Node* node) const { return (*this)(node->key()); }
  };
  struct KeyEq {
    using is_transparent = void;
    static std::string_view key_of(std::string_view key) { return key; }
    static std::string_view key_of(const Node* node) { return node->key(); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return key_of(a) == key_of(b);
    }
  };

  struct Shard {
    std::mutex mutex;
    absl::flat_hash_set<Node*, KeyHash, KeyEq> index;
    Node lru{};  // sentinel: lru.next is the most recently used
    std::size_t bytes = 0;
  };

  Shard& shard_for(std::string_view key);
  // Runs fn(shard, node) with the shard locked if `key` is present; returns its result.
  template <typename Fn>
  bool with_node(std::string_view key, Fn&& fn);
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
  Node* node = *it;
  if (node->expires_at_ms() <= now_ms) {
    unlink_and_free(shard, node);
    return false;
  }
  move_to_front(shard, node);
  fn(L1EntryView{node->key(), node->data(), node->meta(), node->recheck_at_ms.get()});
  return true;
}

}  // namespace scalecache
