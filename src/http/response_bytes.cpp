#include "http/response_bytes.hpp"

#include <charconv>

#include <pistache/http_defs.h>

#include "http/http_date.hpp"

namespace scalecache {

namespace {

bool bodiless(int status) { return status < 200 || status == 204 || status == 304; }

// The response is written twice through the same steps: once counting, once
// appending into a buffer of the counted size. One allocation of the exact
// size: a response that outlives its request (queued for a slow client, or
// handed over from a pool thread) holds no spare capacity, and none of the
// doubling growth that leaves odd-sized holes in the heap.
struct Counter {
  std::size_t size = 0;
  void add(std::string_view text) { size += text.size(); }
  void add(char) { ++size; }
};

struct Appender {
  std::string& out;
  void add(std::string_view text) { out.append(text); }
  void add(char c) { out.push_back(c); }
};

template <typename Sink>
void number(Sink& sink, std::size_t n) {
  char digits[24];
  const auto res = std::to_chars(digits, digits + sizeof digits, n);
  sink.add(std::string_view(digits, static_cast<std::size_t>(res.ptr - digits)));
}

template <typename Sink>
void header(Sink& sink, std::string_view name, std::string_view value) {
  sink.add(name);
  sink.add(": ");
  sink.add(value);
  sink.add("\r\n");
}

template <typename Sink>
void write(Sink& sink, const ResponseParts& parts, std::string_view date) {
  const bool no_body = bodiless(parts.status);
  sink.add("HTTP/1.1 ");
  number(sink, static_cast<std::size_t>(parts.status));
  sink.add(' ');
  sink.add(Pistache::Http::codeString(static_cast<Pistache::Http::Code>(parts.status)));
  sink.add("\r\n");
  header(sink, "Date", date);
  header(sink, "Connection", parts.keep_alive ? "keep-alive" : "close");
  header(sink, "X-Content-Type-Options", "nosniff");
  if (!parts.content_type.empty() && !no_body) header(sink, "Content-Type", parts.content_type);
  if (parts.headers != nullptr) {
    for (const auto& [name, value] : *parts.headers) header(sink, name, value);
  }
  if (!no_body) {
    sink.add("Content-Length: ");
    number(sink, parts.body.size());
    sink.add("\r\n");
  }
  sink.add("\r\n");
  if (!no_body && !parts.head) sink.add(parts.body);
}

}  // namespace

std::string render_response(const ResponseParts& parts) {
  const std::string_view date = http_date_now();
  Counter counter;
  write(counter, parts, date);
  std::string out;
  out.reserve(counter.size);
  Appender appender{out};
  write(appender, parts, date);
  return out;
}

}  // namespace scalecache
