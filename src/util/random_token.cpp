#include "util/random_token.hpp"

#include <cstdint>
#include <random>

namespace scalecache {

std::string random_token() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (int word = 0; word < 2; ++word) {
    uint64_t v = generator();
    for (int i = 0; i < 16; ++i, v >>= 4) out.push_back(kHex[v & 0xf]);
  }
  return out;
}

}  // namespace scalecache
