#pragma once
// Turns the path segment after /data/ into a cache key: percent-decoded,
// non-empty, within the length limit, valid UTF-8 and free of control bytes
// (they would end up in Redis keys, logs and JSON), and not "." or ".." (the
// http origin puts the key in a URL path, where those two name the base
// directory and the one above it).

#include <cstddef>
#include <string>
#include <string_view>

namespace scalecache {

struct DecodedKey {
  enum class Error { None, Empty, BadPercentEncoding, ControlByte, InvalidUtf8, TooLong, DotSegment };
  Error error = Error::None;
  std::string key;

  bool ok() const { return error == Error::None; }
};

DecodedKey decode_key(std::string_view raw, std::size_t max_bytes);

// A short human sentence for an error, used in the JSON error body.
const char* describe(DecodedKey::Error error);

}  // namespace scalecache
