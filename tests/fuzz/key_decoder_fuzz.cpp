// libFuzzer target: scalecache::decode_key (src/http/key_decoder.hpp).
// Input: first byte = max_bytes (0..255), the rest = the raw path segment.
// Checks: no crash or UB (ASan/UBSan), and every accepted key is non-empty,
// within max_bytes, free of control bytes, valid UTF-8, and decodes to
// itself again once fully percent-encoded.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/key_decoder.hpp"
#include "util/utf8.hpp"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "key_decoder_fuzz: %s\n", what);
  std::abort();
}

std::string percent_encode_all(std::string_view key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t max_bytes = data[0];
  const std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);
  const scalecache::DecodedKey decoded = scalecache::decode_key(raw, max_bytes);
  if (scalecache::describe(decoded.error) == nullptr) fail("describe() returned null");
  if (!decoded.ok()) return 0;
  const std::string& key = decoded.key;
  if (key.empty()) fail("accepted an empty key");
  if (key.size() > max_bytes) fail("accepted a key longer than max_bytes");
  if (key.size() > raw.size()) fail("decoding grew the key");
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7F) fail("accepted a control byte");
  }
  if (!scalecache::valid_utf8(key)) fail("accepted invalid UTF-8");
  const std::string again = percent_encode_all(key);
  const scalecache::DecodedKey round = scalecache::decode_key(again, max_bytes);
  if (!round.ok() || round.key != key) fail("percent-encoding an accepted key does not decode back to it");
  return 0;
}
