#pragma once
// The JSON bodies scalecache answers with.

#include <string>
#include <string_view>

namespace scalecache {

// {"key":…,"data":…,"cached":…,"source":…}: the original design's shape plus
// where the answer came from.
std::string data_body(std::string_view key, std::string_view data, bool cached, std::string_view source);

// {"key":…,"purged":true}
std::string purge_body(std::string_view key);

// {"error":…,"detail":…}: `error` is a stable machine-readable code.
std::string error_body(std::string_view error, std::string_view detail);

}  // namespace scalecache
