#include "cache/single_flight.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

using scalecache::SingleFlight;

TEST(SingleFlight, FirstJoinLeadsOthersWait) {
  SingleFlight<int> flights;
  std::vector<int> got;
  EXPECT_TRUE(flights.join("k", [&](const int& v) { got.push_back(v); }));
  EXPECT_FALSE(flights.join("k", [&](const int& v) { got.push_back(v + 100); }));
  EXPECT_TRUE(flights.join("other", [&](const int&) {}));
  flights.complete("k", 7);
  EXPECT_EQ(got, (std::vector<int>{7, 107}));
  EXPECT_TRUE(flights.join("k", [](const int&) {})) << "a completed flight starts anew";
}

TEST(SingleFlight, ConcurrentJoinsElectExactlyOneLeader) {
  SingleFlight<int> flights;
  constexpr int kThreads = 16;
  std::atomic<int> leaders{0};
  std::atomic<int> answered{0};
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      if (flights.join("hot", [&](const int& v) { answered.fetch_add(v); })) leaders.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(leaders.load(), 1);
  flights.complete("hot", 1);
  EXPECT_EQ(answered.load(), kThreads);
  EXPECT_EQ(flights.in_flight(), 0u);
}

TEST(SingleFlight, CallbackMayJoinAgain) {
  SingleFlight<int> flights;
  bool relead = false;
  flights.join("k", [&](const int&) { relead = flights.join("k", [](const int&) {}); });
  flights.complete("k", 1);  // must not deadlock: callbacks run outside the lock
  EXPECT_TRUE(relead);
}
