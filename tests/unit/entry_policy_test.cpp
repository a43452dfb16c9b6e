#include "cache/entry_policy.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace scalecache;

namespace {

constexpr int64_t kNow = 1'000'000;

EntryPolicy policy(bool respect = false, bool store_private = false) {
  CacheConfig config;
  config.ttl_jitter = 0;
  config.respect_origin_headers = respect;
  config.store_private_and_no_store = store_private;
  return EntryPolicy::from(config);
}

OriginResponse answer(const std::string& cache_control) {
  OriginResponse r = OriginResponse::ok("body");
  r.cache_control = cache_control;
  return r;
}

std::optional<Entry> entry_for(const std::string& cache_control, const EntryPolicy& p) {
  OriginResponse r = answer(cache_control);
  return cacheable_entry("k", r, 5, p, kNow);
}

}  // namespace

TEST(EntryPolicy, PrivateAndNoStoreAreNeverStoredWhateverRespectOriginHeadersSays) {
  for (bool respect : {false, true}) {
    for (const char* cc : {"private", "no-store", "private, max-age=600", "max-age=600, no-store", "PRIVATE"}) {
      EXPECT_FALSE(entry_for(cc, policy(respect))) << cc << " respect=" << respect;
    }
  }
}

TEST(EntryPolicy, StorePrivateAndNoStoreOverrides) {
  const auto kept = entry_for("private, max-age=600", policy(false, true));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->meta.fresh_until_ms, kNow + 300'000) << "the configured TTL: origin headers not respected";
  EXPECT_EQ(kept->meta.downstream, Downstream::Shared);
  const auto respected = entry_for("no-store, max-age=600", policy(true, true));
  ASSERT_TRUE(respected);
  EXPECT_EQ(respected->meta.fresh_until_ms, kNow + 600'000);
}

TEST(EntryPolicy, OtherDirectivesCountOnlyWhenRespected) {
  EXPECT_TRUE(entry_for("no-cache", policy(false)));
  EXPECT_FALSE(entry_for("no-cache", policy(true)));
  EXPECT_EQ(entry_for("max-age=60", policy(false))->meta.fresh_until_ms, kNow + 300'000);
  EXPECT_EQ(entry_for("max-age=60", policy(true))->meta.fresh_until_ms, kNow + 60'000);
  EXPECT_TRUE(entry_for("public, max-age=60", policy(false)));
}

TEST(EntryPolicy, AnUncachedAnswerTellsDownstreamWhatTheOriginSaid) {
  OriginResponse priv = answer("private, max-age=600");
  EXPECT_EQ(uncached_entry(priv, kNow).meta.downstream, Downstream::Private);
  OriginResponse no_store = answer("private, no-store");
  EXPECT_EQ(uncached_entry(no_store, kNow).meta.downstream, Downstream::NoStore) << "the stricter of the two";
  OriginResponse plain = answer("max-age=0");
  const Entry served = uncached_entry(plain, kNow);
  EXPECT_EQ(served.meta.downstream, Downstream::Shared);
  EXPECT_EQ(served.meta.fresh_until_ms, kNow);
  EXPECT_EQ(served.data, "body");
}
