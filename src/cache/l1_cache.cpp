#include "cache/l1_cache.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace scalecache {
namespace {

// An unordered_map node (key view, pointer, next link, cached hash) plus its
// bucket slot and allocator header, rounded: counted so l1_bytes is honest.
constexpr std::size_t kIndexOverhead = 64;
// malloc's own header for the entry allocation.
constexpr std::size_t kAllocOverhead = 16;

}  // namespace

std::size_t L1Cache::charge(std::size_t key_size, std::size_t data_size) {
  return sizeof(Node) + kAllocOverhead + kIndexOverhead + key_size + data_size;
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
  // The index hashes again with the same function; the high bits pick the
  // shard so the low bits stay spread inside each shard's table.
  const std::size_t h = std::hash<std::string_view>{}(key);
  return *shards_[(h >> 40) & (shards_.size() - 1)];
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

void L1Cache::put(std::string_view key, const EntryMeta& meta, std::string_view data,
                  int64_t recheck_at_ms, int64_t expires_at_ms) {
  if (!enabled()) return;
  const std::size_t size = charge(key.size(), data.size());
  if (size > shard_max_bytes_ || key.size() > UINT32_MAX || data.size() > UINT32_MAX) return;

  void* memory = ::operator new(sizeof(Node) + key.size() + data.size());
  Node* node = new (memory) Node{};
  node->recheck_at_ms = recheck_at_ms;
  node->expires_at_ms = expires_at_ms;
  node->meta = meta;
  node->key_size = static_cast<uint32_t>(key.size());
  node->data_size = static_cast<uint32_t>(data.size());
  std::memcpy(node->bytes(), key.data(), key.size());
  std::memcpy(node->bytes() + key.size(), data.data(), data.size());

  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (auto it = shard.index.find(key); it != shard.index.end()) unlink_and_free(shard, it->second);
  while (shard.index.size() >= shard_max_entries_ || shard.bytes + size > shard_max_bytes_) {
    if (shard.lru.prev == &shard.lru) break;
    unlink_and_free(shard, shard.lru.prev);
  }
  node->next = shard.lru.next;
  node->prev = &shard.lru;
  shard.lru.next->prev = node;
  shard.lru.next = node;
  shard.index.emplace(node->key(), node);
  shard.bytes += size;
  bytes_.fetch_add(size, std::memory_order_relaxed);
  entries_.fetch_add(1, std::memory_order_relaxed);
}

bool L1Cache::erase(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return false;
  unlink_and_free(shard, it->second);
  return true;
}

bool L1Cache::mark_stale(std::string_view key, int64_t now_ms) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return false;
  Node* node = it->second;
  node->meta.fresh_until_ms = std::min(node->meta.fresh_until_ms, now_ms);
  node->recheck_at_ms = std::min(node->recheck_at_ms, now_ms);
  return true;
}

void L1Cache::clear() {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    while (shard->lru.next != &shard->lru) unlink_and_free(*shard, shard->lru.next);
  }
}

}  // namespace scalecache
