#include "origin/cache_control.hpp"

#include <gtest/gtest.h>

using scalecache::parse_cache_control;

TEST(CacheControl, ReadsTheDirectivesWeHonour) {
  auto p = parse_cache_control("public, max-age=60, stale-while-revalidate=30, stale-if-error=600");
  EXPECT_FALSE(p.no_store);
  EXPECT_EQ(p.max_age_s, 60);
  EXPECT_EQ(p.stale_while_revalidate_s, 30);
  EXPECT_EQ(p.stale_if_error_s, 600);
}

TEST(CacheControl, SharedMaxAgeWinsAndCaseIsIgnored) {
  auto p = parse_cache_control("Max-Age=60, S-MAXAGE=\"120\"");
  EXPECT_EQ(p.max_age_s, 120);
}

TEST(CacheControl, NoStorePrivateNoCache) {
  EXPECT_TRUE(parse_cache_control("no-store").no_store);
  EXPECT_TRUE(parse_cache_control("private, max-age=10").no_store);
  EXPECT_TRUE(parse_cache_control("no-cache").no_store);
}

TEST(CacheControl, MalformedValuesAreIgnored) {
  auto p = parse_cache_control("max-age=-1, stale-if-error=abc, , =, max-age");
  EXPECT_FALSE(p.max_age_s);
  EXPECT_FALSE(p.stale_if_error_s);
  EXPECT_FALSE(p.no_store);
}
