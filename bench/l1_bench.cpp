// L1 micro-benchmark for `make bench` (Google Benchmark, Debian's libbenchmark-dev).
// Measures scalecache::L1Cache from src/cache/l1_cache.{hpp,cpp} alone:
//   BM_L1Get   - hits on a cache holding 100k entries of 100 B, random keys;
//   BM_L1Put   - replacing entries of 100 B in a full cache (alloc + free + LRU);
//   BM_L1Mixed - 90 % get, 10 % put;
// each at 1, 2 and 4 threads sharing one cache (16 shards, as configured by default).
// Built by bench/run.py: g++ -O2 -Isrc bench/l1_bench.cpp src/cache/l1_cache.cpp -lbenchmark
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cache/l1_cache.hpp"

namespace {

using scalecache::EntryMeta;
using scalecache::L1Cache;

constexpr std::size_t kKeys = 100000;
constexpr int64_t kNow = 1'000'000;

// Fresh for the whole run: stored at kNow, fresh for a day of simulated time.
EntryMeta fresh_meta() {
  EntryMeta meta;
  meta.stored_at_ms = kNow;
  meta.fresh_until_ms = kNow + 86'400'000;
  return meta;
}

const std::vector<std::string>& keys() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> v;
    v.reserve(kKeys);
    for (std::size_t i = 0; i < kKeys; ++i) v.push_back("bench:key:" + std::to_string(i));
    return v;
  }();
  return all;
}

const std::string& value() {
  static const std::string v(100, 'v');
  return v;
}

L1Cache& full_cache() {
  // Built once (thread-safe static initialisation), shared by every run.
  static L1Cache cache([] {
    // The service's defaults, with room for every key.
    L1Cache::Limits limits = L1Cache::Limits::from(scalecache::CacheConfig{});
    limits.max_entries = 2 * kKeys;
    limits.max_bytes = std::size_t{1} << 30;
    limits.shards = 16;
    return limits;
  }());
  static const bool filled = [] {
    for (const auto& k : keys()) cache.put(k, fresh_meta(), value(), kNow);
    return true;
  }();
  (void)filled;
  return cache;
}

// A cheap per-thread random walk over the key set (xorshift).
struct KeyPicker {
  explicit KeyPicker(int thread) : state(0x9E3779B97F4A7C15ull * (thread + 1)) {}
  const std::string& next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return keys()[state % kKeys];
  }
  uint64_t state;
};

void BM_L1Get(benchmark::State& state) {
  L1Cache& cache = full_cache();
  KeyPicker pick(state.thread_index());
  std::size_t bytes = 0;
  for (auto _ : state) {
    cache.visit(pick.next(), kNow, [&](const scalecache::L1EntryView& view) { bytes += view.data.size(); });
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
  // 100 B per hit: a lower figure means entries were missing (API or expiry drift).
  state.counters["hit_ratio"] = benchmark::Counter(
      static_cast<double>(bytes) / 100.0 / static_cast<double>(state.iterations()), benchmark::Counter::kAvgThreads);
}

void BM_L1Put(benchmark::State& state) {
  L1Cache& cache = full_cache();
  KeyPicker pick(state.thread_index() + 100);
  const EntryMeta meta = fresh_meta();
  for (auto _ : state) cache.put(pick.next(), meta, value(), kNow);
  state.SetItemsProcessed(state.iterations());
}

void BM_L1Mixed(benchmark::State& state) {
  L1Cache& cache = full_cache();
  KeyPicker pick(state.thread_index() + 200);
  const EntryMeta meta = fresh_meta();
  std::size_t bytes = 0, i = 0;
  for (auto _ : state) {
    const std::string& k = pick.next();
    if (++i % 10 == 0) {
      cache.put(k, fresh_meta(), value(), kNow);
    } else {
      cache.visit(k, kNow, [&](const scalecache::L1EntryView& view) { bytes += view.data.size(); });
    }
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_L1Get)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_L1Put)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_L1Mixed)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
