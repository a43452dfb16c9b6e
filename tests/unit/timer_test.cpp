#include "util/timer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <vector>

#include "eventually.hpp"

namespace scalecache {
namespace {

using testing::eventually;

TEST(Timer, RunsCallbacksInTheOrderTheyAreDueNotTheOrderGiven) {
  Timer timer;
  std::mutex mutex;
  std::vector<int> order;
  std::promise<void> last;
  const auto now = Timer::Clock::now();
  timer.at(now + std::chrono::milliseconds(40), [&] {
    std::lock_guard lock(mutex);
    order.push_back(3);
    last.set_value();
  });
  timer.at(now + std::chrono::milliseconds(20), [&] {
    std::lock_guard lock(mutex);
    order.push_back(2);
  });
  timer.at(now - std::chrono::milliseconds(1), [&] {  // already due: runs at once
    std::lock_guard lock(mutex);
    order.push_back(1);
  });
  last.get_future().wait();
  std::lock_guard lock(mutex);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Timer, StopDropsWhatIsNotDueAndRefusesMore) {
  std::atomic<int> ran{0};
  Timer timer;
  timer.at(Timer::Clock::now(), [&] { ++ran; });
  ASSERT_TRUE(eventually([&] { return ran.load() == 1; }));
  timer.at(Timer::Clock::now() + std::chrono::hours(1), [&] { ++ran; });
  timer.stop();  // returns at once: the hour-long wait is dropped, not waited out
  timer.at(Timer::Clock::now(), [&] { ++ran; });
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace scalecache
