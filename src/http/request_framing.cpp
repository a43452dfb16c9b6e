#include "http/request_framing.hpp"

#include <algorithm>
#include <cstdint>

namespace scalecache {

namespace {

// RFC 9110 §5.6.2 token characters.
bool is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Frame error(int status, std::string_view code, std::string_view detail) {
  Frame f;
  f.kind = Frame::Kind::Error;
  f.status = status;
  f.error = code;
  f.detail = detail;
  return f;
}

Frame bad_request(std::string_view detail) { return error(400, "bad_request", detail); }

// The line starting at `from`: its end (the CR of its CRLF), or npos when no LF
// has arrived yet. A bare LF is reported as `bare_lf`.
std::size_t line_end(std::string_view bytes, std::size_t from, bool& bare_lf) {
  const std::size_t lf = bytes.find('\n', from);
  if (lf == std::string_view::npos) return lf;
  bare_lf = lf == from || bytes[lf - 1] != '\r';
  return lf - 1;
}

enum class Version { Ok10, Ok11, Unsupported, Invalid };

Version parse_version(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return Version::Invalid;
  const char major = v[5], minor = v[7];
  if (major < '0' || major > '9' || minor < '0' || minor > '9') return Version::Invalid;
  if (major == '1' && minor == '1') return Version::Ok11;
  if (major == '1' && minor == '0') return Version::Ok10;
  return Version::Unsupported;
}

// Request line: method SP request-target SP HTTP-version (RFC 9112 §3).
Frame check_request_line(std::string_view line, bool& http10) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return bad_request("the request line is not: method SP target SP version");
  }
  if (!is_token(line.substr(0, sp1))) return bad_request("the method is not a token");
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty()) return bad_request("empty request target");
  for (const char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f) return bad_request("control character in the request target");
  }
  switch (parse_version(line.substr(sp2 + 1))) {
    case Version::Ok10: http10 = true; return {};
    case Version::Ok11: return {};
    case Version::Unsupported: return error(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
    case Version::Invalid: return bad_request("invalid HTTP version");
  }
  return {};
}

// Content-Length: a list of equal decimal numbers (RFC 9110 §8.6, RFC 9112 §6.3).
// Returns false on anything else; `value` is the agreed length.
bool parse_content_length(std::string_view field, bool& seen, uint64_t& value, bool& too_large, uint64_t max) {
  while (true) {
    const std::size_t comma = field.find(',');
    const std::string_view item = trim(field.substr(0, comma));
    if (item.empty()) return false;
    uint64_t n = 0;
    for (const char c : item) {
      if (c < '0' || c > '9') return false;
      if (n > max) {
        too_large = true;  // keep checking the syntax, but stop growing
        continue;
      }
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n > max) too_large = true;
    if (seen && n != value) return false;
    seen = true;
    value = n;
    if (comma == std::string_view::npos) return true;
    field.remove_prefix(comma + 1);
  }
}

// A chunk-size line (hex digits, then optional extensions after ';').
bool parse_chunk_size(std::string_view line, uint64_t& size) {
  const std::string_view digits = trim(line.substr(0, line.find(';')));
  if (digits.empty() || digits.size() > 15) return false;  // 15 hex digits cannot overflow
  size = 0;
  for (const char c : digits) {
    const char lower = static_cast<char>(c | 0x20);
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (lower >= 'a' && lower <= 'f') d = lower - 'a' + 10;
    if (d < 0) return false;
    size = size * 16 + static_cast<uint64_t>(d);
  }
  return true;
}

// A chunked body starting at `from` (RFC 9112 §7.1): chunks, the last chunk,
// trailer fields, an empty line. Returns its end, npos while incomplete, or
// 0 with the error in `f`.
std::size_t chunked_end(std::string_view bytes, std::size_t from, uint64_t max_body, Frame& f) {
  uint64_t total = 0;
  std::size_t at = from;
  bool trailers = false;
  while (true) {
    bool bare = false;
    const std::size_t eol = line_end(bytes, at, bare);
    if (eol == std::string_view::npos) return eol;
    if (bare) {
      f = bad_request("bare LF in the chunked body");
      return 0;
    }
    const std::string_view line = bytes.substr(at, eol - at);
    at = eol + 2;
    if (trailers) {
      if (line.empty()) return at;
      continue;
    }
    uint64_t size = 0;
    if (!parse_chunk_size(line, size)) {
      f = bad_request("invalid chunk size");
      return 0;
    }
    total += size;
    if (total > max_body) {
      f = error(413, "body_too_large", "the request body is larger than server.max_request_bytes");
      return 0;
    }
    if (size == 0) {
      trailers = true;
      continue;
    }
    if (bytes.size() < at + size + 2) return std::string_view::npos;
    if (bytes.substr(at + size, 2) != "\r\n") {
      f = bad_request("chunk data not followed by CRLF");
      return 0;
    }
    at += size + 2;
  }
}

}  // namespace

Frame frame_request(std::string_view bytes, const FrameLimits& limits) {
  Frame out;
  // RFC 9112 §2.2: empty lines before the request line are ignored.
  std::size_t start = 0;
  while (bytes.size() >= start + 2 && bytes.substr(start, 2) == "\r\n") start += 2;
  if (start > limits.max_head_bytes) return bad_request("too many empty lines before the request");
  const std::string_view req = bytes.substr(start);

  bool bare = false;
  const std::size_t line_cr = line_end(req, 0, bare);
  if (line_cr == std::string_view::npos) {
    // Refuse what cannot become a request line now, rather than at the header timeout.
    const std::string_view method = req.substr(0, req.find(' '));
    for (const char c : method) {
      if (!is_tchar(static_cast<unsigned char>(c))) return bad_request("the request does not start with a method");
    }
    if (req.size() > limits.max_head_bytes) {
      return error(414, "uri_too_long", "the request line is longer than server.max_request_bytes");
    }
    return out;
  }
  if (bare) return bad_request("bare LF line ending (CRLF expected)");
  if (line_cr > limits.max_head_bytes) {
    return error(414, "uri_too_long", "the request line is longer than server.max_request_bytes");
  }
  bool http10 = false;
  if (Frame f = check_request_line(req.substr(0, line_cr), http10); f.kind == Frame::Kind::Error) return f;

  bool cl_seen = false, cl_too_large = false, chunked = false, te_seen = false;
  uint64_t content_length = 0;
  std::size_t at = line_cr + 2;
  while (true) {
    const std::size_t cr = line_end(req, at, bare);
    if (cr == std::string_view::npos) {
      if (req.size() > limits.max_head_bytes) {
        return error(431, "headers_too_large", "the request headers are larger than server.max_request_bytes");
      }
      return out;
    }
    if (bare) return bad_request("bare LF line ending (CRLF expected)");
    if (cr + 2 > limits.max_head_bytes) {
      return error(431, "headers_too_large", "the request headers are larger than server.max_request_bytes");
    }
    const std::string_view line = req.substr(at, cr - at);
    at = cr + 2;
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return bad_request("obsolete line folding in the headers");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
      return bad_request("a header line is not: name \":\" value");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && u != '\t') || u == 0x7f) return bad_request("control character in a header value");
    }
    if (iequals(name, "content-length")) {
      if (!parse_content_length(value, cl_seen, content_length, cl_too_large, limits.max_body_bytes)) {
        return bad_request("invalid or conflicting Content-Length");
      }
    } else if (iequals(name, "transfer-encoding")) {
      if (te_seen || !iequals(value, "chunked")) {
        return error(501, "not_implemented", "only Transfer-Encoding: chunked is understood");
      }
      te_seen = chunked = true;
    }
  }
  // RFC 9112 §6.1: both framings at once is how requests are smuggled; refuse.
  if (cl_seen && te_seen) return bad_request("both Content-Length and Transfer-Encoding");
  if (te_seen && http10) return bad_request("Transfer-Encoding in an HTTP/1.0 request");
  if (cl_too_large) return error(413, "body_too_large", "the request body is larger than server.max_request_bytes");

  std::size_t end = at;
  if (chunked) {
    Frame f;
    end = chunked_end(req, at, limits.max_body_bytes, f);
    if (f.kind == Frame::Kind::Error) return f;
    if (end == std::string_view::npos) return out;
  } else if (cl_seen) {
    if (req.size() - at < content_length) return out;
    end = at + static_cast<std::size_t>(content_length);
  }
  out.kind = Frame::Kind::Complete;
  out.skipped = start;
  out.length = end;
  return out;
}

}  // namespace scalecache
