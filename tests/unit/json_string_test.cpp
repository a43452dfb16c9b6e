#include "http/json_string.hpp"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

#include "http/response_body.hpp"

namespace scalecache {
namespace {

// What rapidjson's default writer makes of `text`: the bodies were written
// with it before, and clients may compare them byte for byte.
std::string rapidjson_string(std::string_view text) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return {buf.GetString(), buf.GetSize()};
}

std::string written(std::string_view text) {
  std::string out = "x";
  append_json_string(out, text);
  return out.substr(1);
}

TEST(JsonString, EscapesEveryAsciiByteAsRapidjsonDoes) {
  for (int c = 1; c < 0x80; ++c) {
    const std::string text = "a" + std::string(1, static_cast<char>(c)) + "b";
    EXPECT_EQ(written(text), rapidjson_string(text)) << "byte " << c;
    EXPECT_EQ(json_string_size(text), rapidjson_string(text).size()) << "byte " << c;
  }
}

TEST(JsonString, KeepsUtf8AndNulAsRapidjsonDoes) {
  const std::string text = std::string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ") + std::string(1, '\0') + "end";
  EXPECT_EQ(written(text), rapidjson_string(text));
  EXPECT_EQ(json_string_size(text), written(text).size());
}

TEST(JsonString, EmptyAndAllEscaped) {
  EXPECT_EQ(written(""), "\"\"");
  EXPECT_EQ(json_string_size(""), 2u);
  const std::string text = "\"\\\n\x01";
  EXPECT_EQ(written(text), "\"\\\"\\\\\\n\\u0001\"");
  EXPECT_EQ(json_string_size(text), written(text).size());
}

TEST(DataBody, IsSizedExactly) {
  const std::string body = data_body("k\"1", std::string(1000, '\n'), true, "l1");
  EXPECT_EQ(body.capacity(), body.size());
  EXPECT_EQ(body.substr(0, 14), "{\"key\":\"k\\\"1\",");
  EXPECT_TRUE(body.ends_with(",\"cached\":true,\"source\":\"l1\"}")) << body.substr(body.size() - 40);
}

}  // namespace
}  // namespace scalecache
