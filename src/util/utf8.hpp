#pragma once
// UTF-8 checks. JSON strings must be UTF-8, so keys are checked when decoded
// and origin bodies when they enter the cache; rendering can then trust both.

#include <string>
#include <string_view>

namespace scalecache {

// Strict RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF.
bool valid_utf8(std::string_view text);

// `text` with every byte that is not part of a valid sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view text);

}  // namespace scalecache
