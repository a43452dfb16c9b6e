#include "util/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

TEST(WorkerPool, AReservedThreadRunsTheReservedTaskBeforeOthers) {
  WorkerPool pool("test", 1, 10);
  ASSERT_TRUE(pool.reserve_idle_thread());
  EXPECT_FALSE(pool.reserve_idle_thread()) << "the only thread is spoken for";
  std::mutex mutex;
  std::vector<std::string> order;
  std::promise<void> done;
  auto record = [&](const char* name) {
    std::lock_guard lock(mutex);
    order.emplace_back(name);
    if (order.size() == 2) done.set_value();
  };
  // Queued while the thread is held back: it must wait for the reserved task.
  ASSERT_TRUE(pool.submit([&] { record("queued"); }));
  ASSERT_TRUE(pool.submit([&] { record("reserved"); }, true));
  done.get_future().wait();
  EXPECT_EQ(order, (std::vector<std::string>{"reserved", "queued"}));
  // Once the worker is back from its last task the thread can be reserved again.
  bool reserved = false;
  for (int i = 0; i < 1'000'000 && !reserved; ++i) {
    reserved = pool.reserve_idle_thread();
    if (!reserved) std::this_thread::yield();
  }
  ASSERT_TRUE(reserved);
  pool.release_reservation();  // given up: the thread is free again
  EXPECT_TRUE(pool.reserve_idle_thread());
  pool.release_reservation();
}
