#pragma once
// Time and chance as the cache reads them. Production code uses the wall
// clock and a per-thread generator; unit tests inject a TimeSource they
// control, so expiry, early refresh and deadlines are deterministic.

#include <cstdint>
#include <functional>

namespace scalecache {

// Milliseconds since the Unix epoch. Replicas compare entry times, so they
// must be wall-clock, not steady-clock, values.
int64_t wall_clock_ms();

// A uniform draw in (0,1] from a per-thread generator.
double uniform_open_closed();

struct TimeSource {
  std::function<int64_t()> now_ms = wall_clock_ms;
  std::function<double()> uniform = uniform_open_closed;  // in (0,1]
};

}  // namespace scalecache
