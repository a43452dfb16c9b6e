#include "http/key_decoder.hpp"

#include "util/utf8.hpp"

namespace scalecache {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

DecodedKey decode_key(std::string_view raw, std::size_t max_bytes) {
  DecodedKey out;
  if (raw.empty()) {
    out.error = DecodedKey::Error::Empty;
    return out;
  }
  // Decoding never grows the text, so a raw key within the limit needs no
  // second check; a longer one may still decode short enough.
  out.key.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      const int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
      const int lo = hi >= 0 ? hex_value(raw[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        out.error = DecodedKey::Error::BadPercentEncoding;
        return out;
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      out.error = DecodedKey::Error::ControlByte;
      return out;
    }
    out.key.push_back(c);
  }
  if (out.key.size() > max_bytes) {
    out.error = DecodedKey::Error::TooLong;
  } else if (!valid_utf8(out.key)) {
    out.error = DecodedKey::Error::InvalidUtf8;
  } else if (out.key == "." || out.key == "..") {
    out.error = DecodedKey::Error::DotSegment;
  }
  return out;
}

const char* describe(DecodedKey::Error error) {
  switch (error) {
    case DecodedKey::Error::None: return "ok";
    case DecodedKey::Error::Empty: return "the key is empty";
    case DecodedKey::Error::BadPercentEncoding: return "the key has an invalid percent-encoding";
    case DecodedKey::Error::ControlByte: return "the key contains a control character";
    case DecodedKey::Error::InvalidUtf8: return "the key is not valid UTF-8";
    case DecodedKey::Error::TooLong: return "the key is longer than the configured maximum";
    case DecodedKey::Error::DotSegment: return R"(the key is "." or "..", which would name another origin path)";
  }
  return "invalid key";
}

}  // namespace scalecache
