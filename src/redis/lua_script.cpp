#include "redis/lua_script.hpp"

#include <openssl/evp.h>

#include <array>

namespace scalecache {

LuaScript::LuaScript(std::string source_text) : source(std::move(source_text)) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(source.data(), source.size(), digest.data(), &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  sha1.reserve(std::size_t{2} * length);
  for (unsigned int i = 0; i < length; ++i) {
    sha1.push_back(kHex[digest[i] >> 4]);
    sha1.push_back(kHex[digest[i] & 0xf]);
  }
}

}  // namespace scalecache
