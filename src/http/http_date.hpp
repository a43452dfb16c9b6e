#pragma once
// The Date header's value (RFC 9110 §6.6.1, IMF-fixdate), formatted once per
// second per thread.

#include <string_view>

namespace scalecache {

// "Sun, 06 Nov 1994 08:49:37 GMT" for now; valid until the next call on this thread.
std::string_view http_date_now();

}  // namespace scalecache
