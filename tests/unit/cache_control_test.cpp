#include "origin/cache_control.hpp"

#include <gtest/gtest.h>

using scalecache::parse_cache_control;

TEST(CacheControl, ReadsTheDirectivesWeHonour) {
  auto p = parse_cache_control("public, max-age=60, stale-while-revalidate=30, stale-if-error=600");
  EXPECT_FALSE(p.no_store || p.is_private || p.no_cache);
  EXPECT_EQ(p.max_age_s, 60);
  EXPECT_EQ(p.stale_while_revalidate_s, 30);
  EXPECT_EQ(p.stale_if_error_s, 600);
}

TEST(CacheControl, SharedMaxAgeWinsAndCaseIsIgnored) {
  auto p = parse_cache_control("Max-Age=60, S-MAXAGE=\"120\"");
  EXPECT_EQ(p.max_age_s, 120);
}

TEST(CacheControl, NoStorePrivateAndNoCacheAreToldApart) {
  const auto no_store = parse_cache_control("no-store");
  EXPECT_TRUE(no_store.no_store && !no_store.is_private && !no_store.no_cache);
  const auto priv = parse_cache_control("private, max-age=10");
  EXPECT_TRUE(priv.is_private && !priv.no_store && !priv.no_cache);
  EXPECT_EQ(priv.max_age_s, 10);
  const auto no_cache = parse_cache_control("no-cache");
  EXPECT_TRUE(no_cache.no_cache && !no_cache.no_store && !no_cache.is_private);
}

TEST(CacheControl, PrivateInAnyFormAndPosition) {
  EXPECT_TRUE(parse_cache_control("max-age=600, PRIVATE").is_private);
  EXPECT_TRUE(parse_cache_control("private=\"Set-Cookie\"").is_private) << "qualified: read as unqualified";
  EXPECT_TRUE(parse_cache_control(" public , no-store ").no_store);
  // Two header lines joined as the http origin joins them (OriginHeaders).
  const auto joined = parse_cache_control("private, max-age=600");
  EXPECT_TRUE(joined.is_private);
  EXPECT_EQ(joined.max_age_s, 600);
  EXPECT_FALSE(parse_cache_control("privately, no-stored").is_private || parse_cache_control("no-stored").no_store);
}

TEST(CacheControl, MalformedValuesAreIgnored) {
  auto p = parse_cache_control("max-age=-1, stale-if-error=abc, , =, max-age");
  EXPECT_FALSE(p.max_age_s);
  EXPECT_FALSE(p.stale_if_error_s);
  EXPECT_FALSE(p.no_store || p.is_private || p.no_cache);
}
