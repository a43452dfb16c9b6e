#include "http/cache_headers.hpp"

#include <gtest/gtest.h>

using namespace scalecache;

namespace {
EntryMeta meta_at(int64_t stored, int64_t fresh_until) {
  EntryMeta m;
  m.stored_at_ms = stored;
  m.fresh_until_ms = fresh_until;
  m.etag = 0x1234;
  return m;
}
}  // namespace

TEST(CacheHeaders, HitInL1) {
  const auto h = cache_headers(meta_at(0, 300'000), {CacheSource::L1, std::nullopt, false, false}, 10'000);
  EXPECT_EQ(h.etag, "\"0000000000001234\"");
  EXPECT_EQ(h.age, "10");
  EXPECT_EQ(h.cache_control, "max-age=290");
  EXPECT_EQ(h.cache_status, "scalecache; hit; ttl=290; detail=l1");
}

TEST(CacheHeaders, MissCollapsedStoredAndStale) {
  const EntryMeta m = meta_at(0, 1000);
  EXPECT_EQ(cache_headers(m, {CacheSource::Origin, std::nullopt, false, true}, 0).cache_status,
            "scalecache; fwd=miss; stored");
  EXPECT_EQ(cache_headers(m, {CacheSource::Origin, std::nullopt, true, true}, 0).cache_status,
            "scalecache; fwd=miss; collapsed; stored");
  EXPECT_EQ(cache_headers(m, {CacheSource::L2, std::nullopt, true, false}, 0).cache_status,
            "scalecache; fwd=miss; collapsed; detail=l2");
  const auto stale = cache_headers(m, {CacheSource::Stale, StaleReason::Revalidate, false, false}, 5000);
  EXPECT_EQ(stale.cache_status, "scalecache; hit; ttl=-4; detail=stale-while-revalidate");
  EXPECT_EQ(stale.cache_control, "max-age=0");
  EXPECT_EQ(cache_headers(m, {CacheSource::Stale, StaleReason::Error, false, false}, 5000).cache_status,
            "scalecache; fwd=stale; ttl=-4; detail=stale-if-error");
}

TEST(CacheHeaders, PrivateAndNoStoreAnswersSayWhatTheOriginSaid) {
  EntryMeta m = meta_at(0, 0);
  m.downstream = Downstream::Private;
  const auto priv = cache_headers(m, {CacheSource::Origin, std::nullopt, false, false}, 0);
  EXPECT_EQ(priv.cache_control, "private");
  EXPECT_EQ(priv.cache_status, "scalecache; fwd=miss");
  m.downstream = Downstream::NoStore;
  EXPECT_EQ(cache_headers(m, {CacheSource::Origin, std::nullopt, true, false}, 0).cache_control, "no-store");
  m.downstream = Downstream::Shared;
  EXPECT_EQ(cache_headers(m, {CacheSource::Origin, std::nullopt, false, false}, 0).cache_control, "max-age=0");
}

TEST(CacheHeaders, IfNoneMatch) {
  EXPECT_TRUE(if_none_match("\"abc\"", "\"abc\""));
  EXPECT_TRUE(if_none_match("W/\"abc\"", "\"abc\"")) << "weak comparison";
  EXPECT_TRUE(if_none_match("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(if_none_match("*", "\"abc\""));
  EXPECT_FALSE(if_none_match("\"abd\"", "\"abc\""));
  EXPECT_FALSE(if_none_match("", "\"abc\""));
}
