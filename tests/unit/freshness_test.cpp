#include "cache/freshness.hpp"
#include "util/clock.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

using namespace scalecache;

namespace {
EntryMeta entry(int64_t fresh_until, int32_t swr_s, int32_t sie_s, int32_t compute_ms = 0) {
  EntryMeta m;
  m.stored_at_ms = 0;
  m.fresh_until_ms = fresh_until;
  m.stale_while_revalidate_s = swr_s;
  m.stale_if_error_s = sie_s;
  m.compute_ms = compute_ms;
  return m;
}
}  // namespace

TEST(Freshness, EntryLifeStages) {
  const EntryMeta m = entry(10'000, 5, 60);
  EXPECT_EQ(classify(m, 9'999), Freshness::Fresh);
  EXPECT_EQ(classify(m, 10'000), Freshness::Revalidate);
  EXPECT_EQ(classify(m, 14'999), Freshness::Revalidate);
  EXPECT_EQ(classify(m, 15'000), Freshness::StaleIfError);
  EXPECT_EQ(classify(m, 69'999), Freshness::StaleIfError);
  EXPECT_EQ(classify(m, 70'000), Freshness::Gone);
  EXPECT_EQ(keep_until_ms(m), 70'000);
  EXPECT_EQ(retention_ms(m, 20'000), 50'000);
  EXPECT_EQ(retention_ms(m, 80'000), 0);
}

TEST(Freshness, XFetchFollowsThePaper) {
  const EntryMeta m = entry(10'000, 0, 0, 100);  // the origin took 100 ms
  // u = 1 → ln(u) = 0: never early; refreshes only at expiry.
  EXPECT_FALSE(should_refresh_early(m, 9'999, 1.0, 1.0));
  // u = e^-1 → lead = 100 ms × beta.
  const double u = std::exp(-1.0);
  EXPECT_TRUE(should_refresh_early(m, 9'900, 1.0, u));
  EXPECT_FALSE(should_refresh_early(m, 9'899, 1.0, u));
  EXPECT_TRUE(should_refresh_early(m, 9'800, 2.0, u)) << "larger beta refreshes earlier";
  EXPECT_FALSE(should_refresh_early(m, 9'999, 0.0, 1e-9)) << "beta 0 turns it off";
  EXPECT_FALSE(should_refresh_early(m, 10'000, 1.0, u)) << "expired entries are not 'early'";
}

TEST(Freshness, JitterIsDeterministicBoundedAndSpread) {
  std::set<int64_t> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "key-" + std::to_string(i);
    const int64_t ttl = jittered_ttl_ms(key, 100'000, 0.2);
    EXPECT_EQ(ttl, jittered_ttl_ms(key, 100'000, 0.2));
    EXPECT_GT(ttl, 80'000);
    EXPECT_LE(ttl, 100'000);
    seen.insert(ttl);
  }
  EXPECT_GT(seen.size(), 90u);
  EXPECT_EQ(jittered_ttl_ms("k", 100'000, 0.0), 100'000);
}

TEST(Freshness, UniformDrawIsInOpenClosedInterval) {
  for (int i = 0; i < 10000; ++i) {
    const double u = uniform_open_closed();
    ASSERT_GT(u, 0.0);
    ASSERT_LE(u, 1.0);
  }
}
