#pragma once
// A JSON string literal (RFC 8259 §7) measured, then written into a buffer
// the caller sized: answers are built in one allocation of the exact size,
// where rapidjson's writer reserves six bytes per input byte (a 61 KB buffer
// for a 10 KB value) before copying the result out again.
//
// Escapes exactly what rapidjson's default writer escapes (`"`, `\`, and the
// control characters below 0x20), the same way, so bodies are byte for byte
// what they were. Input must already be valid UTF-8 (checked where it enters).

#include <cstddef>
#include <string>
#include <string_view>

namespace scalecache {

// Bytes of the quoted, escaped form of `text`.
std::size_t json_string_size(std::string_view text);

// Appends the quoted, escaped form of `text`.
void append_json_string(std::string& out, std::string_view text);

}  // namespace scalecache
