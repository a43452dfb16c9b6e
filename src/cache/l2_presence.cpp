#include "cache/l2_presence.hpp"

#include <algorithm>
#include <bit>
#include <functional>

namespace scalecache {
namespace {

// 0 marks an empty slot, so no key may hash to it.
uint64_t key_hash(std::string_view key) { return std::hash<std::string_view>{}(key) | 1; }

}  // namespace

L2Presence::L2Presence(std::size_t slots)
    : mask_(std::bit_ceil(std::max<std::size_t>(slots, 1)) - 1), slots_(std::make_unique<Slot[]>(mask_ + 1)) {}

void L2Presence::seen(std::string_view key, int64_t until_ms) {
  const uint64_t hash = key_hash(key);
  Slot& s = slot(hash);
  // Two stores, not one: a reader between them may pair one key's hash with
  // another's time, which is a wrong guess and nothing worse.
  s.hash.store(hash, std::memory_order_relaxed);
  s.until_ms.store(until_ms, std::memory_order_relaxed);
}

void L2Presence::forget(std::string_view key) {
  const uint64_t hash = key_hash(key);
  Slot& s = slot(hash);
  if (s.hash.load(std::memory_order_relaxed) == hash) s.until_ms.store(0, std::memory_order_relaxed);
}

bool L2Presence::servable(std::string_view key, int64_t now_ms) const {
  const uint64_t hash = key_hash(key);
  const Slot& s = slot(hash);
  return s.hash.load(std::memory_order_relaxed) == hash && now_ms < s.until_ms.load(std::memory_order_relaxed);
}

}  // namespace scalecache
