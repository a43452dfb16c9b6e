#include "util/clock.hpp"

#include <chrono>
#include <random>

namespace scalecache {

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

double uniform_open_closed() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  // generate_canonical gives [0,1); 1 - that is (0,1], as ln() needs.
  return 1.0 - std::generate_canonical<double, 53>(generator);
}

}  // namespace scalecache
