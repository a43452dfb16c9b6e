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

// Fresh for `ttl_ms` from kNow, no stale windows.
EntryMeta fresh_for(int64_t ttl_ms) {
  EntryMeta meta;
  meta.stored_at_ms = kNow;
  meta.fresh_until_ms = kNow + ttl_ms;
  return meta;
}

std::string read(L1Cache& cache, const std::string& key, int64_t now = kNow) {
  std::string out = "<miss>";
  cache.visit(key, now, [&](const L1EntryView& v) { out = std::string(v.data); });
  return out;
}

L1Cache::Limits limits(std::size_t entries, std::size_t bytes, std::size_t shards = 1) {
  return {entries, bytes, shards, 60000};
}

}  // namespace

TEST(L1Cache, StoresAndReturnsValuesWithMeta) {
  L1Cache cache(limits(10, 1 << 20));
  EntryMeta meta{kNow - 5, kNow + 100, 42, 7, 9, 0xabcdef, false};
  cache.put("k", meta, "value", kNow);
  bool seen = false;
  cache.visit("k", kNow, [&](const L1EntryView& v) {
    seen = true;
    EXPECT_EQ(v.key, "k");
    EXPECT_EQ(v.data, "value");
    EXPECT_EQ(v.meta.stored_at_ms, kNow - 5);
    EXPECT_EQ(v.meta.fresh_until_ms, kNow + 100);
    EXPECT_EQ(v.meta.compute_ms, 42);
    EXPECT_EQ(v.meta.stale_while_revalidate_s, 7);
    EXPECT_EQ(v.meta.stale_if_error_s, 9);
    EXPECT_EQ(v.meta.etag, 0xabcdefu);
    EXPECT_FALSE(v.meta.negative);
    EXPECT_EQ(v.recheck_at_ms, kNow + 60000) << "one L1 period from the put, stale or fresh";
  });
  EXPECT_TRUE(seen);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), L1Cache::charge(1, 5));
}

TEST(L1Cache, RecheckComesAfterL1TtlWhenTheEntryLivesLonger) {
  L1Cache cache({10, 1 << 20, 1, 500});
  cache.put("k", fresh_for(10000), "v", kNow);
  cache.visit("k", kNow, [&](const L1EntryView& v) { EXPECT_EQ(v.recheck_at_ms, kNow + 500); });
}

TEST(L1Cache, RecheckCountsFromWhenL1StoredTheEntry) {
  // An answer the origin produced long ago, read again from Redis now, gets
  // a full L1 period: otherwise it would go back to Redis on every read.
  L1Cache cache({10, 1 << 20, 1, 500});
  EntryMeta old = fresh_for(100000);
  old.stored_at_ms = kNow - 60000;
  cache.put("k", old, "v", kNow);
  cache.visit("k", kNow, [&](const L1EntryView& v) { EXPECT_EQ(v.recheck_at_ms, kNow + 500); });
}

TEST(L1Cache, EntryIsKeptThroughItsStaleWindowsThenDropped) {
  L1Cache cache(limits(10, 1 << 20));
  EntryMeta meta = fresh_for(10);
  meta.stale_if_error_s = 1;
  cache.put("stale-ok", meta, "a", kNow);
  cache.put("short", fresh_for(10), "b", kNow);
  EXPECT_EQ(read(cache, "short", kNow + 9), "b");
  EXPECT_EQ(read(cache, "short", kNow + 10), "<miss>");
  EXPECT_EQ(read(cache, "stale-ok", kNow + 1009), "a");
  EXPECT_EQ(read(cache, "stale-ok", kNow + 1010), "<miss>");
  EXPECT_EQ(cache.entries(), 0u) << "entries past their windows are dropped when seen";
}

TEST(L1Cache, RefusesEntriesAlreadyPastTheirWindows) {
  L1Cache cache(limits(10, 1 << 20));
  cache.put("old", fresh_for(10), "v", kNow + 10);
  EXPECT_EQ(cache.entries(), 0u);
}

TEST(L1Cache, EvictsLeastRecentlyUsedByCount) {
  L1Cache cache(limits(3, 1 << 20));
  cache.put("a", fresh_for(100), "1", kNow);
  cache.put("b", fresh_for(100), "2", kNow);
  cache.put("c", fresh_for(100), "3", kNow);
  EXPECT_EQ(read(cache, "a"), "1");  // a becomes most recently used
  cache.put("d", fresh_for(100), "4", kNow);
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
  for (int i = 0; i < 10; ++i) cache.put("k" + std::to_string(i), fresh_for(100), value, kNow);
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_LE(cache.bytes(), one * 3);
  EXPECT_EQ(read(cache, "k9"), value);
  EXPECT_EQ(read(cache, "k6"), "<miss>");
}

TEST(L1Cache, ChargedOverheadPerEntryIsUnderHundredBytes) {
  // Only the accounting (what l1_bytes reports and evicts by), not memory:
  // the RSS per entry is larger and is measured by the bench (bench/run.py).
  EXPECT_LE(L1Cache::charge(0, 0), 100u);
  EXPECT_LE(L1Cache::charge(20, 100) - 120, 100u);
}

TEST(L1Cache, ChargeIsTheSixtyByteHeaderKeyValueMallocChunkAndIndexSlot) {
  // 60 B header + key + value + malloc's 8 B chunk header, rounded up to 16,
  // plus 12 B for the index slot: the bench's 10 KB case (12 B keys) fills
  // 10,320 B chunks exactly.
  EXPECT_EQ(L1Cache::charge(12, 10240), 10320u + 12u);
  EXPECT_EQ(L1Cache::charge(10, 100), 192u + 12u);
  EXPECT_EQ(L1Cache::charge(0, 0), 80u + 12u);
}

TEST(L1Cache, KeepsTimesExactAcrossTheirWholeRange) {
  // Times are stored in 48 bits: a year-long TTL, times before 1970 and the
  // far future all come back exactly, and so does erase_if_older's comparison.
  L1Cache cache(limits(10, 1 << 20));
  const int64_t year_ms = int64_t{31'536'000} * 1000;
  const int64_t far = (int64_t{1} << 47) - 1;  // about the year 6400
  const struct {
    const char* key;
    int64_t stored, fresh, now;
  } cases[] = {
      {"year", kNow, kNow + year_ms, kNow}, {"before1970", -5000, far, -4000}, {"far", far - 10, far, far - 20}};
  for (const auto& c : cases) {
    EntryMeta meta;
    meta.stored_at_ms = c.stored;
    meta.fresh_until_ms = c.fresh;
    cache.put(c.key, meta, "v", c.now);
    bool seen = false;
    cache.visit(c.key, c.now, [&](const L1EntryView& v) {
      seen = true;
      EXPECT_EQ(v.meta.stored_at_ms, c.stored) << c.key;
      EXPECT_EQ(v.meta.fresh_until_ms, c.fresh) << c.key;
    });
    EXPECT_TRUE(seen) << c.key;
    EXPECT_FALSE(cache.erase_if_older(c.key, c.stored)) << c.key;
    EXPECT_TRUE(cache.erase_if_older(c.key, c.stored + 1)) << c.key;
  }
}

TEST(L1Cache, RecheckPastTheTimeRangeSaturates) {
  L1Cache cache(limits(10, 1 << 20));
  const int64_t far = (int64_t{1} << 47) - 1;
  EntryMeta meta;
  meta.stored_at_ms = far - 100;
  meta.fresh_until_ms = far;
  cache.put("k", meta, "v", far - 50);  // now + 60 s would pass the range
  cache.visit("k", far - 50, [&](const L1EntryView& v) { EXPECT_EQ(v.recheck_at_ms, far); });
  EXPECT_EQ(read(cache, "k", far - 50), "v");
}

TEST(L1Cache, RefusesEntriesItCannotRepresent) {
  // Not stored (L1 answers a miss; the shared tier still has the entry), never stored wrong.
  L1Cache cache(limits(10, 1 << 20));
  EntryMeta beyond = fresh_for(100);
  beyond.fresh_until_ms = int64_t{1} << 47;
  cache.put("beyond", beyond, "v", kNow);
  EXPECT_EQ(read(cache, "beyond"), "<miss>");
  cache.put(std::string(65536, 'k'), fresh_for(100), "v", kNow);
  EXPECT_EQ(cache.entries(), 0u);
  const std::string longest(65535, 'k');
  cache.put(longest, fresh_for(100), "v", kNow);
  EXPECT_EQ(read(cache, longest), "v");
}

TEST(L1Cache, RefusesEntryLargerThanShardBudget) {
  L1Cache cache(limits(10, 500));
  cache.put("big", fresh_for(100), std::string(600, 'x'), kNow);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(L1Cache, ReplaceKeepsAccountingRight) {
  L1Cache cache(limits(10, 1 << 20));
  cache.put("k", fresh_for(100), "short", kNow);
  cache.put("k", fresh_for(100), "a much longer value", kNow);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), L1Cache::charge(1, 19));
  EXPECT_EQ(read(cache, "k"), "a much longer value");
  EXPECT_TRUE(cache.erase("k"));
  EXPECT_FALSE(cache.erase("k"));
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(L1Cache, MarkStaleEndsFreshnessButKeepsTheEntry) {
  L1Cache cache(limits(10, 1 << 20));
  EntryMeta meta = fresh_for(10000);
  meta.stale_if_error_s = 60;
  cache.put("k", meta, "v", kNow);
  EXPECT_TRUE(cache.mark_stale("k", kNow + 5));
  cache.visit("k", kNow + 6, [&](const L1EntryView& v) {
    EXPECT_EQ(v.meta.fresh_until_ms, kNow + 5);
    EXPECT_EQ(v.recheck_at_ms, kNow + 5);
  });
  EXPECT_EQ(read(cache, "k", kNow + 6), "v");
}

TEST(L1Cache, ZeroEntriesDisablesIt) {
  L1Cache cache(limits(0, 1 << 20));
  EXPECT_FALSE(cache.enabled());
  cache.put("k", fresh_for(100), "v", kNow);
  EXPECT_EQ(read(cache, "k"), "<miss>");
}

TEST(L1Cache, ConcurrentReadersAndWritersKeepBounds) {
  L1Cache cache(limits(500, 1 << 20, 8));
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // Each round puts a key and reads it straight back, so a hit does not
      // depend on how the scheduler interleaves the threads; the third step
      // reads or erases a key another thread is likely to be writing.
      for (int round = 0; round < 7000; ++round) {
        const std::string key = "k" + std::to_string((round * 7 + t) % 2000);
        const std::string other = "k" + std::to_string((round * 7 + t + 3) % 2000);
        cache.put(key, fresh_for(100), key, kNow);
        cache.visit(key, kNow, [&](const L1EntryView& v) {
          if (v.data == key) hits.fetch_add(1);
        });
        if (round % 17 == 0) {
          cache.erase(other);
        } else {
          cache.visit(other, kNow, [&](const L1EntryView& v) { EXPECT_EQ(v.data, v.key); });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  // A read-back misses only when another thread evicts or erases the key in
  // the instant between put and visit, so most rounds must hit.
  EXPECT_GT(hits.load(), 4 * 7000 / 2);
  EXPECT_LE(cache.entries(), 500u);
  std::size_t expected_bytes = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "k" + std::to_string(i);
    cache.visit(key, kNow,
                [&](const L1EntryView& v) { expected_bytes += L1Cache::charge(v.key.size(), v.data.size()); });
  }
  EXPECT_EQ(cache.bytes(), expected_bytes) << "byte accounting drifted under concurrency";
}
