// libFuzzer target: scalecache::decode_entry / encode_entry
// (src/cache/entry_codec.hpp), the layout replicas share through Redis.
// Checks: decoding arbitrary bytes never crashes or reads out of bounds, and
// whatever decodes is stable: encode(decode(x)) decodes again to an entry
// that encodes to the same bytes, with the same data.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cache/entry_codec.hpp"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "entry_codec_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = scalecache::decode_entry(bytes);
  // The hash is total: any bytes.
  (void)scalecache::content_hash(bytes);
  if (!decoded) return 0;
  const std::string encoded = scalecache::encode_entry(*decoded);
  const auto again = scalecache::decode_entry(encoded);
  if (!again) fail("an entry decoded from bytes does not decode after re-encoding");
  if (again->data != decoded->data) fail("data changed across encode/decode");
  if (scalecache::encode_entry(*again) != encoded) fail("encode(decode(encode(e))) != encode(e)");
  if (encoded.size() > size) fail("re-encoding grew the entry");
  return 0;
}
