#include "origin/simulated_origin.hpp"

#include <thread>

namespace scalecache {

OriginResponse SimulatedOrigin::fetch(const std::string& key) {
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  return OriginResponse::ok("Fetched data for " + key);
}

}  // namespace scalecache
