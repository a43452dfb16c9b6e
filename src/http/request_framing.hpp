#pragma once
// Where one HTTP/1.1 request ends in the bytes read from a connection
// (RFC 9112 §2–7), checked before Pistache's parser sees them. Pistache 0.0.5
// parses one request per read and drops what follows (no pipelining), trusts
// any Content-Length (reserving it up front), and answers its own errors in
// plain text; framing the bytes here first lets the connection hand the parser
// exactly one complete, well-formed request at a time and answer everything
// else itself, as JSON.

#include <cstddef>
#include <string_view>

namespace scalecache {

struct FrameLimits {
  std::size_t max_head_bytes;  // request line + headers (414 / 431 beyond)
  std::size_t max_body_bytes;  // 413 beyond
};

struct Frame {
  enum class Kind { Incomplete, Complete, Error };
  Kind kind = Kind::Incomplete;
  std::size_t skipped = 0;  // empty lines before the request line (RFC 9112 §2.2), not part of the request
  std::size_t length = 0;   // Complete: bytes of the request after `skipped`, body included
  int status = 0;           // Error: 400, 413, 414, 431, 501, 505
  std::string_view error;   // Error: the JSON error code
  std::string_view detail;  // Error: why
};

// Looks at the start of `bytes`: a complete request, not yet (read more), or
// an error that ends the connection. Never reads beyond `bytes`, allocates nothing.
Frame frame_request(std::string_view bytes, const FrameLimits& limits);

}  // namespace scalecache
