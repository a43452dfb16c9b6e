#include "http/response_bytes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace scalecache {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ResponseBytes, CarriesDateConnectionNosniffLengthAndBody) {
  const HeaderList headers{{"ETag", "\"1\""}};
  ResponseParts parts;
  parts.content_type = "application/json";
  parts.headers = &headers;
  parts.body = "{}";
  const std::string out = render_response(parts);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\nDate: ", 0), 0u) << out;
  EXPECT_TRUE(has(out, " GMT\r\n"));
  EXPECT_TRUE(has(out, "\r\nConnection: keep-alive\r\n"));
  EXPECT_TRUE(has(out, "\r\nX-Content-Type-Options: nosniff\r\n"));
  EXPECT_TRUE(has(out, "\r\nContent-Type: application/json\r\n"));
  EXPECT_TRUE(has(out, "\r\nETag: \"1\"\r\n"));
  EXPECT_TRUE(out.ends_with("\r\nContent-Length: 2\r\n\r\n{}")) << out;
}

TEST(ResponseBytes, HeadKeepsTheLengthAndDropsTheBody) {
  ResponseParts parts;
  parts.body = "hello";
  parts.head = true;
  parts.keep_alive = false;
  const std::string out = render_response(parts);
  EXPECT_TRUE(out.ends_with("\r\nContent-Length: 5\r\n\r\n")) << out;
  EXPECT_TRUE(has(out, "\r\nConnection: close\r\n"));
}

TEST(ResponseBytes, NotModifiedHasNoLengthTypeOrBody) {
  ResponseParts parts;
  parts.status = 304;
  parts.content_type = "application/json";
  const std::string out = render_response(parts);
  EXPECT_EQ(out.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u) << out;
  EXPECT_FALSE(has(out, "\r\nContent-Length"));
  EXPECT_FALSE(has(out, "\r\nContent-Type"));
  EXPECT_TRUE(out.ends_with("nosniff\r\n\r\n")) << out;
}

// A response may wait in a queue (slow client, or handed over from a pool
// thread): it holds no spare capacity.
TEST(ResponseBytes, IsAllocatedAtItsExactSize) {
  const HeaderList headers{{"Cache-Status", std::string(300, 'x')}};
  ResponseParts parts;
  parts.content_type = "application/json";
  parts.headers = &headers;
  const std::string body(10000, 'b');
  parts.body = body;
  const std::string out = render_response(parts);
  EXPECT_EQ(out.capacity(), out.size());
  EXPECT_TRUE(out.ends_with("\r\nContent-Length: 10000\r\n\r\n" + body));
}

}  // namespace
}  // namespace scalecache
