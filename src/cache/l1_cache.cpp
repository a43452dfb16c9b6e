#include "cache/l1_cache.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "cache/freshness.hpp"

namespace scalecache {
namespace {

// An index slot (8-byte pointer + 1 control byte) at the table's typical
// load, and malloc's per-allocation header: counted so l1_bytes is honest.
constexpr std::size_t kIndexOverhead = 12;
constexpr std::size_t kAllocOverhead = 8;
constexpr std::size_t kAllocAlign = 16;

}  // namespace

L1Cache::Limits L1Cache::Limits::from(const CacheConfig& config) {
  return {static_cast<std::size_t>(config.l1_max_entries), static_cast<std::size_t>(config.l1_max_bytes),
          static_cast<std::size_t>(config.l1_shards), std::min(config.l1_ttl_seconds, config.ttl_seconds) * 1000};
}

void L1Cache::Ms48::set(int64_t ms) {
  const auto bits = static_cast<uint64_t>(std::clamp(ms, kMin, kMax));
  for (std::size_t i = 0; i < parts_.size(); ++i) parts_[i] = static_cast<uint16_t>(bits >> (16 * i));
}

EntryMeta L1Cache::Node::meta() const {
  EntryMeta m;
  m.stored_at_ms = stored_at_ms.get();
  m.fresh_until_ms = fresh_until_ms.get();
  m.compute_ms = compute_ms;
  m.stale_while_revalidate_s = stale_while_revalidate_s;
  m.stale_if_error_s = stale_if_error_s;
  m.etag = etag;
  m.negative = negative != 0;
  return m;
}

int64_t L1Cache::Node::expires_at_ms() const { return keep_until_ms(meta()); }

std::size_t L1Cache::charge(std::size_t key_size, std::size_t data_size) {
  static_assert(sizeof(Node) == 60, "the header size the unit tests on charge() count on");
  const std::size_t chunk =
      (sizeof(Node) + key_size + data_size + kAllocOverhead + kAllocAlign - 1) / kAllocAlign * kAllocAlign;
  return chunk + kIndexOverhead;
}

L1Cache::L1Cache(Limits limits)
    : limits_(limits),
      shard_max_entries_(std::max<std::size_t>(1, limits.max_entries / std::max<std::size_t>(1, limits.shards))),
      shard_max_bytes_(std::max<std::size_t>(1, limits.max_bytes / std::max<std::size_t>(1, limits.shards))) {
  const std::size_t count = std::max<std::size_t>(1, limits.shards);
  shards_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->lru.prev = shard->lru.next = &shard->lru;
    shards_.push_back(std::move(shard));
  }
}

L1Cache::~L1Cache() { clear(); }

L1Cache::Shard& L1Cache::shard_for(std::string_view key) {
  // The index hashes again; taking the shard from the high bits keeps the low
  // bits, which the index uses, spread inside each shard.
  const std::size_t h = KeyHash{}(key);
  return *shards_[(h >> 48) & (shards_.size() - 1)];
}

void L1Cache::move_to_front(Shard& shard, Node* node) {
  if (shard.lru.next == node) return;
  node->prev->next = node->next;
  node->next->prev = node->prev;
  node->next = shard.lru.next;
  node->prev = &shard.lru;
  shard.lru.next->prev = node;
  shard.lru.next = node;
}

void L1Cache::unlink_and_free(Shard& shard, Node* node) {
  shard.index.erase(node->key());
  node->prev->next = node->next;
  node->next->prev = node->prev;
  const std::size_t size = charge(node->key_size, node->data_size);
  shard.bytes -= size;
  bytes_.fetch_sub(size, std::memory_order_relaxed);
  entries_.fetch_sub(1, std::memory_order_relaxed);
  node->~Node();
  ::operator delete(node);
}

void L1Cache::put(std::string_view key, const EntryMeta& meta, std::string_view data, int64_t now_ms) {
  if (!enabled() || keep_until_ms(meta) <= now_ms) return;
  const std::size_t size = charge(key.size(), data.size());
  if (size > shard_max_bytes_ || key.size() > UINT16_MAX || data.size() >= (1u << 31) ||
      !Ms48::fits(meta.stored_at_ms) || !Ms48::fits(meta.fresh_until_ms)) {
    return;
  }

  void* memory = ::operator new(sizeof(Node) + key.size() + data.size());
  Node* node = new (memory) Node{};
  // Counted from now, not from when the origin answered: an entry read again
  // from Redis gets a full L1 period, and past it L1 serves it no more, fresh
  // or stale (the bound on serving a purge this replica missed).
  node->recheck_at_ms.set(now_ms + limits_.recheck_after_ms);
  node->stored_at_ms.set(meta.stored_at_ms);
  node->fresh_until_ms.set(meta.fresh_until_ms);
  node->etag = meta.etag;
  node->compute_ms = meta.compute_ms;
  node->stale_while_revalidate_s = meta.stale_while_revalidate_s;
  node->stale_if_error_s = meta.stale_if_error_s;
  node->key_size = static_cast<uint16_t>(key.size());
  node->data_size = static_cast<uint32_t>(data.size());
  node->negative = meta.negative ? 1 : 0;
  std::memcpy(node->bytes(), key.data(), key.size());
  std::memcpy(node->bytes() + key.size(), data.data(), data.size());

  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (auto it = shard.index.find(key); it != shard.index.end()) unlink_and_free(shard, *it);
  while (shard.index.size() >= shard_max_entries_ || shard.bytes + size > shard_max_bytes_) {
    if (shard.lru.prev == &shard.lru) break;
    unlink_and_free(shard, shard.lru.prev);
  }
  node->next = shard.lru.next;
  node->prev = &shard.lru;
  shard.lru.next->prev = node;
  shard.lru.next = node;
  shard.index.insert(node);
  shard.bytes += size;
  bytes_.fetch_add(size, std::memory_order_relaxed);
  entries_.fetch_add(1, std::memory_order_relaxed);
}

template <typename Fn>
bool L1Cache::with_node(std::string_view key, Fn&& fn) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  return it != shard.index.end() && fn(shard, *it);
}

bool L1Cache::erase(std::string_view key) {
  return with_node(key, [this](Shard& shard, Node* node) {
    unlink_and_free(shard, node);
    return true;
  });
}

bool L1Cache::erase_if_older(std::string_view key, int64_t stored_at_ms) {
  return with_node(key, [this, stored_at_ms](Shard& shard, Node* node) {
    if (node->stored_at_ms.get() >= stored_at_ms) return false;
    unlink_and_free(shard, node);
    return true;
  });
}

bool L1Cache::mark_stale(std::string_view key, int64_t now_ms) {
  return with_node(key, [now_ms](Shard&, Node* node) {
    EntryMeta meta = node->meta();
    scalecache::mark_stale(meta, now_ms);
    node->fresh_until_ms.set(meta.fresh_until_ms);
    node->stored_at_ms.set(meta.stored_at_ms);
    node->recheck_at_ms.set(std::min(node->recheck_at_ms.get(), now_ms));
    return true;
  });
}

void L1Cache::clear() {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    while (shard->lru.next != &shard->lru) unlink_and_free(*shard, shard->lru.next);
  }
}

}  // namespace scalecache
