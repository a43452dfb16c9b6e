#include "cache/entry_codec.hpp"

#include <cstring>

namespace scalecache {
namespace {

constexpr char kMagic0 = 'S';
constexpr char kMagic1 = 'C';
constexpr unsigned char kVersion = 1;
constexpr std::size_t kHeaderSize = 2 + 1 + 1 + 8 + 8 + 4 + 4 + 4 + 8;
constexpr unsigned char kFlagNegative = 1;

template <typename T>
void put_le(std::string& out, T value) {
  auto u = static_cast<std::make_unsigned_t<T>>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>(u & 0xff));
    u = static_cast<decltype(u)>(u >> 8);
  }
}

template <typename T>
T get_le(const char* in) {
  std::make_unsigned_t<T> u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    u |= static_cast<std::make_unsigned_t<T>>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return static_cast<T>(u);
}

}  // namespace

uint64_t content_hash(std::string_view data) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string encode_entry(const Entry& entry) {
  std::string out;
  out.reserve(kHeaderSize + entry.data.size());
  out.push_back(kMagic0);
  out.push_back(kMagic1);
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(entry.meta.negative ? kFlagNegative : 0));
  put_le(out, entry.meta.stored_at_ms);
  put_le(out, entry.meta.fresh_until_ms);
  put_le(out, entry.meta.compute_ms);
  put_le(out, entry.meta.stale_while_revalidate_s);
  put_le(out, entry.meta.stale_if_error_s);
  put_le(out, entry.meta.etag);
  out.append(entry.data);
  return out;
}

std::optional<Entry> decode_entry(std::string_view bytes) {
  if (bytes.size() < kHeaderSize || bytes[0] != kMagic0 || bytes[1] != kMagic1 ||
      static_cast<unsigned char>(bytes[2]) != kVersion) {
    return std::nullopt;
  }
  const auto flags = static_cast<unsigned char>(bytes[3]);
  if ((flags & ~kFlagNegative) != 0) return std::nullopt;
  Entry entry;
  const char* p = bytes.data() + 4;
  entry.meta.negative = (flags & kFlagNegative) != 0;
  entry.meta.stored_at_ms = get_le<int64_t>(p);
  entry.meta.fresh_until_ms = get_le<int64_t>(p + 8);
  entry.meta.compute_ms = get_le<int32_t>(p + 16);
  entry.meta.stale_while_revalidate_s = get_le<int32_t>(p + 20);
  entry.meta.stale_if_error_s = get_le<int32_t>(p + 24);
  entry.meta.etag = get_le<uint64_t>(p + 28);
  if (entry.meta.compute_ms < 0 || entry.meta.fresh_until_ms < entry.meta.stored_at_ms ||
      entry.meta.stale_while_revalidate_s < 0 || entry.meta.stale_if_error_s < 0) {
    return std::nullopt;
  }
  entry.data.assign(bytes.substr(kHeaderSize));
  return entry;
}

}  // namespace scalecache
