#include "cache/entry_codec.hpp"

#include <chrono>
#include <cstring>

namespace scalecache {
namespace {

constexpr char kMagic0 = 'S';
constexpr char kMagic1 = 'C';
constexpr unsigned char kVersion = 1;
constexpr std::size_t kHeaderSize = 2 + 1 + 8 + 8 + 4;

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

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string encode_entry(const Entry& entry) {
  std::string out;
  out.reserve(kHeaderSize + entry.data.size());
  out.push_back(kMagic0);
  out.push_back(kMagic1);
  out.push_back(static_cast<char>(kVersion));
  put_le(out, entry.meta.stored_at_ms);
  put_le(out, entry.meta.fresh_until_ms);
  put_le(out, entry.meta.compute_ms);
  out.append(entry.data);
  return out;
}

std::optional<Entry> decode_entry(std::string_view bytes) {
  if (bytes.size() < kHeaderSize || bytes[0] != kMagic0 || bytes[1] != kMagic1 ||
      static_cast<unsigned char>(bytes[2]) != kVersion) {
    return std::nullopt;
  }
  Entry entry;
  const char* p = bytes.data() + 3;
  entry.meta.stored_at_ms = get_le<int64_t>(p);
  entry.meta.fresh_until_ms = get_le<int64_t>(p + 8);
  entry.meta.compute_ms = get_le<int32_t>(p + 16);
  if (entry.meta.compute_ms < 0 || entry.meta.fresh_until_ms < entry.meta.stored_at_ms) {
    return std::nullopt;
  }
  entry.data.assign(bytes.substr(kHeaderSize));
  return entry;
}

}  // namespace scalecache
