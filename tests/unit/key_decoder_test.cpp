#include "http/key_decoder.hpp"

#include <gtest/gtest.h>

using scalecache::decode_key;
using Error = scalecache::DecodedKey::Error;

TEST(KeyDecoder, DecodesPercentEncoding) {
  EXPECT_EQ(decode_key("plain-key_1.2~", 512).key, "plain-key_1.2~");
  EXPECT_EQ(decode_key("a%20b%2Fc", 512).key, "a b/c");
  EXPECT_EQ(decode_key("caf%C3%A9", 512).key, "caf\xC3\xA9");
  EXPECT_EQ(decode_key("a/b/../c", 512).key, "a/b/../c") << "a key is an opaque name, never a path";
}

TEST(KeyDecoder, RejectsBadKeys) {
  EXPECT_EQ(decode_key("", 512).error, Error::Empty);
  EXPECT_EQ(decode_key("%", 512).error, Error::BadPercentEncoding);
  EXPECT_EQ(decode_key("%4", 512).error, Error::BadPercentEncoding);
  EXPECT_EQ(decode_key("%zz", 512).error, Error::BadPercentEncoding);
  EXPECT_EQ(decode_key("a%00b", 512).error, Error::ControlByte);
  EXPECT_EQ(decode_key("a%0Ab", 512).error, Error::ControlByte);
  EXPECT_EQ(decode_key("a%7F", 512).error, Error::ControlByte);
  EXPECT_EQ(decode_key("%FF", 512).error, Error::InvalidUtf8);
  EXPECT_EQ(decode_key("%C0%AF", 512).error, Error::InvalidUtf8) << "overlong slash";
  EXPECT_EQ(decode_key("%ED%A0%80", 512).error, Error::InvalidUtf8) << "surrogate";
}

TEST(KeyDecoder, LimitAppliesToDecodedBytes) {
  EXPECT_TRUE(decode_key(std::string(8, 'a'), 8).ok());
  EXPECT_EQ(decode_key(std::string(9, 'a'), 8).error, Error::TooLong);
  EXPECT_TRUE(decode_key("%41%41%41%41%41%41%41%41", 8).ok()) << "24 raw bytes decode to 8";
}

TEST(KeyDecoder, RejectsDotSegmentsHoweverEncoded) {
  // In the http origin's URL path "." is the base directory and ".." the one
  // above it (libcurl and most servers remove such segments).
  for (const char* raw : {".", "..", "%2E", "%2e", "%2E%2E", "%2e%2E", ".%2E", "%2E."}) {
    EXPECT_EQ(decode_key(raw, 512).error, Error::DotSegment) << raw;
  }
}

TEST(KeyDecoder, KeysThatOnlyContainDotsAreFine) {
  for (const char* raw : {"...", ".a", "a.", "..a", "a..", "%2E%2E%2E", "..%2F..", "%2E%2E%2Fx"}) {
    EXPECT_TRUE(decode_key(raw, 512).ok()) << raw;
  }
}
