#pragma once
// The original design's stand-in for an expensive computation: takes its
// delay, then answers "Fetched data for <key>". The delay is either a wait
// (Sleep: an origin bound by I/O, costing no CPU) or CPU time burnt on the
// calling thread (Cpu: a computation, so a backlog of misses shows up as CPU
// load, which is what a CPU autoscaler of the workers reacts to).

#include <chrono>

#include "origin/origin.hpp"

namespace scalecache {

class SimulatedOrigin : public Origin {
 public:
  enum class Work { Sleep, Cpu };

  explicit SimulatedOrigin(std::chrono::milliseconds delay, Work work = Work::Sleep) : delay_(delay), work_(work) {}
  // Cpu: the call ends once its thread has used `delay` of CPU time; it times
  // out when that takes longer than `budget` of wall time (a starved process).
  OriginResponse fetch(const std::string& key, std::chrono::milliseconds budget) override;

 private:
  std::chrono::milliseconds delay_;
  Work work_;
};

// Burns CPU on the calling thread until it has used `cpu` of CPU time or
// `wall` of wall time has passed, whichever comes first; true when the CPU
// time was reached. Exposed for the unit tests.
bool burn_cpu(std::chrono::nanoseconds cpu, std::chrono::nanoseconds wall);

}  // namespace scalecache
