#pragma once
// The JSON bodies scalecache answers with.

#include <string>
#include <string_view>

namespace scalecache {

// {"key":…,"data":…,"cached":…,"source":…}: the original design's shape plus
// where the answer came from.
std::string data_body(std::string_view key, std::string_view data, bool cached, std::string_view source);

// {"<what>":…,"purged":<count>}: what is "key" or "tag".
std::string purge_body(std::string_view what, std::string_view name, std::size_t purged);

// {"key":…,"status":"accepted","location":…}: a 202 (Prefer: respond-async or wait=N).
std::string accepted_body(std::string_view key, std::string_view location);

// {"error":…,"detail":…}: `error` is a stable machine-readable code.
std::string error_body(std::string_view error, std::string_view detail);

}  // namespace scalecache
