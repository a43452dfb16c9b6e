#include "util/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

using scalecache::WorkerPool;

TEST(WorkerPool, RunsTasks) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool("test", 2, 100);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.submit([&] { ran.fetch_add(1); }));
  }  // destructor finishes the queue
  EXPECT_EQ(ran.load(), 50);
}

TEST(WorkerPool, RejectsWhenQueueIsFull) {
  // Declared before the pool: its destructor waits for the task that uses them.
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  WorkerPool pool("test", 1, 2);
  ASSERT_TRUE(pool.submit([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only worker is now busy
  EXPECT_TRUE(pool.submit([] {}));
  EXPECT_TRUE(pool.submit([] {}));
  EXPECT_FALSE(pool.submit([] {})) << "a third queued task exceeds max_queue";
  release.set_value();
}

TEST(WorkerPool, RejectsAfterStopAndSurvivesThrowingTask) {
  std::promise<void> after;
  WorkerPool pool("test", 1, 10);
  ASSERT_TRUE(pool.submit([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(pool.submit([&] { after.set_value(); }));
  after.get_future().wait();
  pool.stop();
  EXPECT_FALSE(pool.submit([] {}));
}
