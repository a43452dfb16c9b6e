#include "origin/simulated_origin.hpp"

#include <thread>

namespace scalecache {

OriginResponse SimulatedOrigin::fetch(const std::string& key, std::chrono::milliseconds budget) {
  if (delay_ > budget) {
    std::this_thread::sleep_for(budget);  // the computation would still be running: give up
    return OriginResponse::failed(OriginStatus::Timeout, "origin did not answer within the timeout");
  }
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  return OriginResponse::ok("Fetched data for " + key);
}

}  // namespace scalecache
