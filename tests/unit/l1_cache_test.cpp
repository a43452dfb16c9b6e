#include "cache/l1_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using scalecache::EntryMeta;
using scalecache::L1Cache;
using scalecache::L1EntryView;

namespace {

constexpr int64_t kNow = 1'000'000;

std::string read(L1Cache& cache, const std::string& key, int64_t now = kNow) {
  std::string out = "<miss>";
  cache.visit(key, now, [&](const L1EntryView& v) { out = std::string(v.data); });
  return out;
}

L1Cache::Limits limits(std::size_t entries, std::size_t bytes, std::size_t shards = 1) {
  return {entries, bytes, shards};
}

}  // namespace

TEST(L1Cache, StoresAndReturnsValuesWithMeta) {
  L1Cache cache(limits(10, 1 << 20));
  EntryMeta meta{kNow - 5, kNow + 100, 42};
  cache.put("k", meta, "value", kNow + 50, kNow + 50);
  bool seen = false;
  cache.visit("k", kNow, [&](const L1EntryView& v) {
    seen = true;
    EXPECT_EQ(v.key, "k");
    EXPECT_EQ(v.data, "value");
    EXPECT_EQ(v.meta.compute_ms, 42);
    EXPECT_EQ(v.expires_at_ms, kNow + 50);
  });
  EXPECT_TRUE(seen);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), L1Cache::charge(1, 5));
}

TEST(L1Cache, EntryExpiresAtItsOwnTtl) {
  L1Cache cache(limits(10, 1 << 20));
  cache.put("short", {}, "a", kNow + 10, kNow + 10);
  cache.put("long", {}, "b", kNow + 1000, kNow + 1000);
  EXPECT_EQ(read(cache, "short", kNow + 9), "a");
  EXPECT_EQ(read(cache, "short", kNow + 10), "<miss>");
  EXPECT_EQ(read(cache, "long", kNow + 10), "b");
  EXPECT_EQ(cache.entries(), 1u) << "an expired entry is dropped when seen";
}

TEST(L1Cache, EvictsLeastRecentlyUsedByCount) {
  L1Cache cache(limits(3, 1 << 20));
  cache.put("a", {}, "1", kNow + 100, kNow + 100);
  cache.put("b", {}, "2", kNow + 100, kNow + 100);
  cache.put("c", {}, "3", kNow + 100, kNow + 100);
  EXPECT_EQ(read(cache, "a"), "1");  // a becomes most recently used
  cache.put("d", {}, "4", kNow + 100, kNow + 100);
  EXPECT_EQ(read(cache, "b"), "<miss>");
  EXPECT_EQ(read(cache, "a"), "1");
  EXPECT_EQ(read(cache, "c"), "3");
  EXPECT_EQ(read(cache, "d"), "4");
  EXPECT_EQ(cache.entries(), 3u);
}

TEST(L1Cache, EvictsByBytes) {
  const std::string value(1000, 'x');
  const std::size_t one = L1Cache::charge(2, value.size());
  L1Cache cache(limits(1000, one * 3));
  for (int i = 0; i < 10; ++i) cache.put("k" + std::to_string(i), {}, value, kNow + 100, kNow + 100);
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_LE(cache.bytes(), one * 3);
  EXPECT_EQ(read(cache, "k9"), value);
  EXPECT_EQ(read(cache, "k6"), "<miss>");
}

TEST(L1Cache, RefusesEntryLargerThanShardBudget) {
  L1Cache cache(limits(10, 500));
  cache.put("big", {}, std::string(600, 'x'), kNow + 100, kNow + 100);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(L1Cache, ReplaceKeepsAccountingRight) {
  L1Cache cache(limits(10, 1 << 20));
  cache.put("k", {}, "short", kNow + 100, kNow + 100);
  cache.put("k", {}, "a much longer value", kNow + 100, kNow + 100);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), L1Cache::charge(1, 19));
  EXPECT_EQ(read(cache, "k"), "a much longer value");
  EXPECT_TRUE(cache.erase("k"));
  EXPECT_FALSE(cache.erase("k"));
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(L1Cache, ZeroEntriesDisablesIt) {
  L1Cache cache(limits(0, 1 << 20));
  EXPECT_FALSE(cache.enabled());
  cache.put("k", {}, "v", kNow + 100, kNow + 100);
  EXPECT_EQ(read(cache, "k"), "<miss>");
}

TEST(L1Cache, ConcurrentReadersAndWritersKeepBounds) {
  L1Cache cache(limits(500, 1 << 20, 8));
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + t) % 2000);
        if (i % 3 == 0) {
          cache.put(key, {}, key, kNow + 100, kNow + 100);
        } else if (i % 50 == 0) {
          cache.erase(key);
        } else {
          cache.visit(key, kNow, [&](const L1EntryView& v) {
            if (v.data == key) hits.fetch_add(1);
          });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(hits.load(), 0);
  EXPECT_LE(cache.entries(), 500u);
  std::size_t expected_bytes = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "k" + std::to_string(i);
    cache.visit(key, kNow, [&](const L1EntryView& v) { expected_bytes += L1Cache::charge(v.key.size(), v.data.size()); });
  }
  EXPECT_EQ(cache.bytes(), expected_bytes) << "byte accounting drifted under concurrency";
}
