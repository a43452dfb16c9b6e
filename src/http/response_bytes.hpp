#pragma once
// An HTTP/1.1 response as the bytes written to the socket (RFC 9112 §4–6):
// status line, the headers every answer carries (Date, Connection,
// X-Content-Type-Options), the caller's headers, Content-Length, body.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scalecache {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ResponseParts {
  int status = 200;
  std::string_view content_type;  // empty: no Content-Type
  const HeaderList* headers = nullptr;
  std::string_view body;
  bool keep_alive = true;
  bool head = false;  // a HEAD request: every header GET would send, no body (RFC 9110 §9.3.2)
};

// 1xx, 204 and 304 carry neither a body nor Content-Length (RFC 9110 §8.6, §15.4.5).
std::string render_response(const ResponseParts& parts);

}  // namespace scalecache
