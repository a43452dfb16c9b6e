#include "origin/simulated_origin.hpp"

#include <cstdint>
#include <ctime>
#include <thread>

namespace scalecache {
namespace {

std::chrono::nanoseconds thread_cpu_time() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Where the computation's result goes, so the compiler cannot drop the loop.
volatile std::uint64_t g_sink = 0;

}  // namespace

bool burn_cpu(std::chrono::nanoseconds cpu, std::chrono::nanoseconds wall) {
  const auto cpu_end = thread_cpu_time() + cpu;
  const auto wall_end = std::chrono::steady_clock::now() + wall;
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (;;) {
    // A few microseconds of xorshift between clock reads: reading the thread's
    // CPU clock is a system call, kept to a small share of the time burnt.
    for (int i = 0; i < 20000; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    g_sink = x;
    if (thread_cpu_time() >= cpu_end) return true;
    if (std::chrono::steady_clock::now() >= wall_end) return false;
  }
}

OriginResponse SimulatedOrigin::fetch(const std::string& key, std::chrono::milliseconds budget) {
  if (work_ == Work::Cpu) {
    if (delay_.count() > 0 && !burn_cpu(delay_, budget)) {
      return OriginResponse::failed(OriginStatus::Timeout, "origin did not answer within the timeout");
    }
    return OriginResponse::ok("Fetched data for " + key);
  }
  if (delay_ > budget) {
    std::this_thread::sleep_for(budget);  // the computation would still be running: give up
    return OriginResponse::failed(OriginStatus::Timeout, "origin did not answer within the timeout");
  }
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  return OriginResponse::ok("Fetched data for " + key);
}

}  // namespace scalecache
