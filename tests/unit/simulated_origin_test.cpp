// The simulated origin's two kinds of work: a sleep costs no CPU, `cpu`
// costs its delay in CPU time on the calling thread (what makes a CPU
// autoscaler see a backlog of worker jobs), and both time out on the budget.

#include "origin/simulated_origin.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

#include "config/config.hpp"
#include "origin/origin_factory.hpp"

using namespace std::chrono_literals;
using scalecache::OriginStatus;
using scalecache::SimulatedOrigin;

namespace {

std::chrono::nanoseconds thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

struct Cost {
  scalecache::OriginResponse response;
  std::chrono::nanoseconds cpu;
  std::chrono::nanoseconds wall;
};

Cost measure(scalecache::Origin& origin, std::chrono::milliseconds budget) {
  const auto cpu0 = thread_cpu();
  const auto wall0 = std::chrono::steady_clock::now();
  auto response = origin.fetch("k", budget);
  return {std::move(response), thread_cpu() - cpu0, std::chrono::steady_clock::now() - wall0};
}

}  // namespace

TEST(SimulatedOrigin, SleepWorkWaitsWithoutUsingCpu) {
  SimulatedOrigin origin(60ms, SimulatedOrigin::Work::Sleep);
  const Cost c = measure(origin, 5s);
  EXPECT_EQ(c.response.status, OriginStatus::Ok);
  EXPECT_EQ(c.response.body, "Fetched data for k");
  EXPECT_GE(c.wall, 60ms);
  EXPECT_LT(c.cpu, 20ms) << "a sleeping origin burnt CPU";
}

TEST(SimulatedOrigin, CpuWorkUsesItsDelayInCpuTime) {
  SimulatedOrigin origin(60ms, SimulatedOrigin::Work::Cpu);
  const Cost c = measure(origin, 10s);
  EXPECT_EQ(c.response.status, OriginStatus::Ok);
  EXPECT_EQ(c.response.body, "Fetched data for k");
  EXPECT_GE(c.cpu, 60ms) << "the call ended before its thread had used its delay in CPU time";
  // No wall-time check: other processes may take the CPU meanwhile, and the
  // thread's CPU clock and the steady clock are read at slightly different
  // moments, so even "wall >= cpu" can miss by nanoseconds (seen under TSan).
}

TEST(SimulatedOrigin, CpuWorkGivesUpAtTheBudget) {
  SimulatedOrigin origin(10s, SimulatedOrigin::Work::Cpu);
  const Cost c = measure(origin, 50ms);
  EXPECT_EQ(c.response.status, OriginStatus::Timeout);
  EXPECT_GE(c.wall, 50ms);
  EXPECT_LT(c.wall, 2s) << "the budget did not bound the computation";
}

TEST(SimulatedOrigin, BurnCpuStopsAtWhicheverLimitComesFirst) {
  EXPECT_TRUE(scalecache::burn_cpu(5ms, 10s));
  EXPECT_FALSE(scalecache::burn_cpu(10s, 20ms));
}

TEST(SimulatedOrigin, TheFactoryBuildsTheWorkTheConfigNames) {
  scalecache::OriginConfig config;
  config.simulated_delay_ms = 40;
  config.simulated_work = "cpu";
  auto cpu = scalecache::make_origin(config, "");
  EXPECT_GE(measure(*cpu, 10s).cpu, 40ms);
  config.simulated_work = "sleep";
  auto sleep = scalecache::make_origin(config, "");
  EXPECT_LT(measure(*sleep, 10s).cpu, 20ms);
}
