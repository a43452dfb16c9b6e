#include "cache/entry_codec.hpp"

#include <gtest/gtest.h>

using namespace scalecache;

TEST(EntryCodec, RoundTrips) {
  Entry entry{{1700000000123, 1700000300123, 2001, 60, 300, 0xfeedbeefcafe, false}, std::string("data\0with nul", 13)};
  const auto decoded = decode_entry(encode_entry(entry));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->meta.stored_at_ms, entry.meta.stored_at_ms);
  EXPECT_EQ(decoded->meta.fresh_until_ms, entry.meta.fresh_until_ms);
  EXPECT_EQ(decoded->meta.compute_ms, 2001);
  EXPECT_EQ(decoded->meta.stale_while_revalidate_s, 60);
  EXPECT_EQ(decoded->meta.stale_if_error_s, 300);
  EXPECT_EQ(decoded->meta.etag, 0xfeedbeefcafeu);
  EXPECT_FALSE(decoded->meta.negative);
  Entry negative{{1, 2, 0, 0, 0, 0, true}, ""};
  EXPECT_TRUE(decode_entry(encode_entry(negative))->meta.negative);
  EXPECT_EQ(decoded->data, entry.data);
}

TEST(EntryCodec, RejectsForeignAndTruncatedBytes) {
  const std::string good = encode_entry({{1, 2, 3, 0, 0, 0, false}, "x"});
  EXPECT_FALSE(decode_entry(""));
  EXPECT_FALSE(decode_entry("Fetched data for k"));  // a value written by the original Flask app
  EXPECT_FALSE(decode_entry(good.substr(0, 10)));
  std::string other_version = good;
  other_version[2] = 9;
  EXPECT_FALSE(decode_entry(other_version));
  std::string unknown_flags = good;
  unknown_flags[3] = 4;
  EXPECT_FALSE(decode_entry(unknown_flags));
  std::string backwards = encode_entry({{100, 50, 0, 0, 0, 0, false}, "x"});
  EXPECT_FALSE(decode_entry(backwards)) << "fresh_until before stored_at";
}
