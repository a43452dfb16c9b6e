#include "origin/origin_headers.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

using scalecache::OriginHeaders;

namespace {

OriginHeaders fed(std::initializer_list<const char*> lines, const char* tag_header = "Surrogate-Key") {
  OriginHeaders headers(tag_header);
  for (const char* line : lines) headers.add_line(line);
  return headers;
}

using Tags = std::vector<std::string>;

}  // namespace

TEST(OriginHeaders, ReadsCacheControlAndTags) {
  const auto h = fed({"HTTP/1.1 200 OK\r\n", "Cache-Control: max-age=60\r\n", "Surrogate-Key: a b\r\n",
                      "Content-Length: 3\r\n", "\r\n"});
  EXPECT_EQ(h.cache_control(), "max-age=60");
  EXPECT_EQ(h.tags(), (Tags{"a", "b"}));
}

TEST(OriginHeaders, RepeatedCacheControlLinesAreOneList) {
  // The first line must not be lost to the second: "private" then
  // "max-age=600" is a private answer, not a shared one.
  const auto h = fed({"HTTP/1.1 200 OK\r\n", "Cache-Control: private\r\n", "Content-Type: text/plain\r\n",
                      "cache-control:max-age=600\r\n", "\r\n"});
  EXPECT_EQ(h.cache_control(), "private, max-age=600");
}

TEST(OriginHeaders, RepeatedTagLinesAreOneList) {
  const auto h = fed({"HTTP/1.1 200 OK\r\n", "Surrogate-Key: a b\r\n", "SURROGATE-KEY: c,d\r\n",
                      "Surrogate-Key:   \r\n", "surrogate-key: e\r\n"});
  EXPECT_EQ(h.tags(), (Tags{"a", "b", "c", "d", "e"}));
}

TEST(OriginHeaders, EmptyLinesAddNothing) {
  const auto h =
      fed({"HTTP/1.1 200 OK\r\n", "Cache-Control:\r\n", "Cache-Control: no-store \t\r\n", "Cache-Control: \r\n"});
  EXPECT_EQ(h.cache_control(), "no-store");
}

TEST(OriginHeaders, OnlyTheFinalResponseCounts) {
  const auto h = fed({"HTTP/1.1 100 Continue\r\n", "Cache-Control: no-store\r\n", "Surrogate-Key: old\r\n", "\r\n",
                      "HTTP/1.1 200 OK\r\n", "Cache-Control: max-age=5\r\n", "Surrogate-Key: new\r\n", "\r\n"});
  EXPECT_EQ(h.cache_control(), "max-age=5");
  EXPECT_EQ(h.tags(), (Tags{"new"}));
}

TEST(OriginHeaders, OtherFieldsAndLookalikesAreIgnored) {
  const auto h = fed({"HTTP/1.1 200 OK\r\n", "Cache-Controls: private\r\n", "X-Cache-Control: private\r\n",
                      "Surrogate-Keys: x\r\n", "Surrogate-Control: max-age=1\r\n"});
  EXPECT_EQ(h.cache_control(), "");
  EXPECT_TRUE(h.tags().empty());
}

TEST(OriginHeaders, TagHeaderIsConfigurable) {
  const auto h = fed({"HTTP/1.1 200 OK\r\n", "Surrogate-Key: a\r\n", "xkey: b\r\n", "XKey: c\r\n"}, "xkey");
  EXPECT_EQ(h.tags(), (Tags{"b", "c"}));
  EXPECT_TRUE(fed({"Surrogate-Key: a\r\n", ": b\r\n"}, "").tags().empty()) << "no tag header configured";
}
