#include "http/response_bytes.hpp"

#include <charconv>

#include <pistache/http_defs.h>

#include "http/http_date.hpp"

namespace scalecache {

namespace {

bool bodiless(int status) { return status < 200 || status == 204 || status == 304; }

void append_number(std::string& out, std::size_t n) {
  char digits[24];
  const auto res = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, res.ptr);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

std::string render_response(const ResponseParts& parts) {
  const bool no_body = bodiless(parts.status);
  std::string out;
  out.reserve(256 + (parts.head || no_body ? 0 : parts.body.size()));
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(parts.status));
  out.push_back(' ');
  out.append(Pistache::Http::codeString(static_cast<Pistache::Http::Code>(parts.status)));
  out.append("\r\n");
  append_header(out, "Date", http_date_now());
  append_header(out, "Connection", parts.keep_alive ? "keep-alive" : "close");
  append_header(out, "X-Content-Type-Options", "nosniff");
  if (!parts.content_type.empty() && !no_body) append_header(out, "Content-Type", parts.content_type);
  if (parts.headers != nullptr) {
    for (const auto& [name, value] : *parts.headers) append_header(out, name, value);
  }
  if (!no_body) {
    out.append("Content-Length: ");
    append_number(out, parts.body.size());
    out.append("\r\n");
  }
  out.append("\r\n");
  if (!no_body && !parts.head) out.append(parts.body);
  return out;
}

}  // namespace scalecache
