#pragma once
// The Prefer request header (RFC 7240) as GET /data/{key} reads it:
// "respond-async" (answer 202 Accepted when the answer is not at hand) and
// "wait=N" (answer within N seconds: 202 if the answer is not ready by then;
// with respond-async too, RFC 7240's "respond asynchronously if it takes
// longer than N seconds"). Other preferences are ignored, as the RFC asks; a wait
// that is not a number of seconds is bad input (400).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scalecache {

struct Preferences {
  bool respond_async = false;
  std::optional<int64_t> wait_seconds;
  std::string error;  // set when the header is malformed: answer 400 with it

  // The Preference-Applied header value for a 202, e.g. "respond-async, wait=3".
  std::string applied() const;
};

// `header`: the Prefer header's value; absent: no preferences.
Preferences parse_prefer(std::optional<std::string_view> header);

}  // namespace scalecache
