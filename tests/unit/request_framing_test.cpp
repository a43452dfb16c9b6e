#include "http/request_framing.hpp"

#include <gtest/gtest.h>

#include <string>

namespace scalecache {
namespace {

constexpr FrameLimits kLimits{1024, 2048};

Frame frame(const std::string& bytes) { return frame_request(bytes, kLimits); }

TEST(RequestFraming, FindsTheEndOfOneRequestAmongPipelinedOnes) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  const Frame f = frame(first + "GET /b HTTP/1.1\r\n\r\n");
  ASSERT_EQ(f.kind, Frame::Kind::Complete);
  EXPECT_EQ(f.skipped, 0u);
  EXPECT_EQ(f.length, first.size());
}

TEST(RequestFraming, WaitsForTheRestOfHeadersAndBody) {
  EXPECT_EQ(frame("GET /a HTTP/1.1\r\nHost").kind, Frame::Kind::Incomplete);
  EXPECT_EQ(frame("GET /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nab").kind, Frame::Kind::Incomplete);
  EXPECT_EQ(frame("GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab").kind, Frame::Kind::Incomplete);
}

TEST(RequestFraming, CountsTheBodyByContentLengthOrChunks) {
  const std::string cl = "DELETE /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd";
  EXPECT_EQ(frame(cl + "GET").length, cl.size());
  const std::string chunked =
      "GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
  const Frame f = frame(chunked + "GET");
  ASSERT_EQ(f.kind, Frame::Kind::Complete);
  EXPECT_EQ(f.length, chunked.size());
}

TEST(RequestFraming, SkipsEmptyLinesBeforeTheRequestLine) {
  const Frame f = frame("\r\n\r\nGET /a HTTP/1.1\r\n\r\n");
  ASSERT_EQ(f.kind, Frame::Kind::Complete);
  EXPECT_EQ(f.skipped, 4u);
}

void expect_error(const std::string& bytes, int status, std::string_view error) {
  const Frame f = frame(bytes);
  ASSERT_EQ(f.kind, Frame::Kind::Error) << bytes;
  EXPECT_EQ(f.status, status) << bytes;
  EXPECT_EQ(f.error, error) << bytes;
  EXPECT_FALSE(f.detail.empty());
}

TEST(RequestFraming, RefusesAmbiguousLengths) {
  expect_error("GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n123456", 400, "bad_request");
  expect_error("GET / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n123456", 400, "bad_request");
  expect_error("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400,
               "bad_request");
  expect_error("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "bad_request");
  expect_error("GET / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n", 400, "bad_request");
  expect_error("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented");
  EXPECT_EQ(frame("GET / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab").kind, Frame::Kind::Complete);
}

TEST(RequestFraming, RefusesOversizeLineHeadersAndBodyBeforeReadingThem) {
  expect_error("GET /" + std::string(2000, 'a'), 414, "uri_too_long");
  expect_error("GET / HTTP/1.1\r\nX: " + std::string(2000, 'b'), 431, "headers_too_large");
  expect_error("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413, "body_too_large");
  expect_error("GET / HTTP/1.1\r\nContent-Length: 2049\r\n\r\n", 413, "body_too_large");
  expect_error("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFF\r\n", 413, "body_too_large");
}

TEST(RequestFraming, RefusesMalformedSyntax) {
  expect_error("GET / HTTP/1.1\nHost: x\n\n", 400, "bad_request");
  expect_error("GET /a b HTTP/1.1\r\n\r\n", 400, "bad_request");
  expect_error("GET /a\x01 HTTP/1.1\r\n\r\n", 400, "bad_request");
  expect_error("GET /a HTTP/1.1\r\nNoColon\r\n\r\n", 400, "bad_request");
  expect_error("GET /a HTTP/1.1\r\nX-Bad : 1\r\n\r\n", 400, "bad_request");
  expect_error("GET /a HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400, "bad_request");
  expect_error(std::string("GET /a HTTP/1.1\r\nX: a\0b\r\n\r\n", 27), 400, "bad_request");
  expect_error("GET /a\r\n\r\n", 400, "bad_request");
  expect_error("GET /a HTTP/9.9\r\n\r\n", 505, "http_version_not_supported");
  expect_error("GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "bad_request");
  expect_error(std::string("\x16\x03\x01\x00", 4), 400, "bad_request");
}

}  // namespace
}  // namespace scalecache
