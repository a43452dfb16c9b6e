#include "http/json_string.hpp"

#include <array>

namespace scalecache {
namespace {

// 0: as it is; 'u': \u00XX; otherwise the letter after the backslash.
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table['\b'] = 'b';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\f'] = 'f';
  table['\r'] = 'r';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}();

char escape_of(char c) { return kEscape[static_cast<unsigned char>(c)]; }

}  // namespace

std::size_t json_string_size(std::string_view text) {
  std::size_t size = text.size() + 2;
  for (const char c : text) {
    const char e = escape_of(c);
    if (e != 0) size += e == 'u' ? 5 : 1;
  }
  return size;
}

void append_json_string(std::string& out, std::string_view text) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  out.push_back('"');
  std::size_t plain_from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char e = escape_of(text[i]);
    if (e == 0) continue;
    out.append(text.substr(plain_from, i - plain_from));
    out.push_back('\\');
    out.push_back(e);
    if (e == 'u') {
      const auto byte = static_cast<unsigned char>(text[i]);
      out.append("00");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
    plain_from = i + 1;
  }
  out.append(text.substr(plain_from));
  out.push_back('"');
}

}  // namespace scalecache
