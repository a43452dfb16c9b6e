#include "util/worker_pool.hpp"

#include <pthread.h>

#include "util/log.hpp"

namespace scalecache {

WorkerPool::WorkerPool(std::string name, std::size_t threads, std::size_t max_queue)
    : name_(std::move(name)), max_queue_(max_queue) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { run(); });
    // Thread names show up in top -H and in debuggers; Linux caps them at 15 chars.
    pthread_setname_np(threads_.back().native_handle(), name_.substr(0, 15).c_str());
  }
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::submit(Task task, bool reserved) {
  {
    std::lock_guard lock(mutex_);
    if (reserved) --reserved_;
    if (stopping_ || (!reserved && queue_.size() >= max_queue_)) return false;
    // A reserved task goes first: the thread held back for it must not pick
    // up a task queued meanwhile and leave it waiting.
    if (reserved) {
      queue_.push_front({std::move(task), true});
    } else {
      queue_.push_back({std::move(task), false});
    }
  }
  wake_.notify_one();
  return true;
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool WorkerPool::reserve_idle_thread() {
  std::lock_guard lock(mutex_);
  if (stopping_ || queue_.size() + busy_ + reserved_ >= threads_.size()) return false;
  ++reserved_;
  return true;
}

void WorkerPool::release_reservation() {
  {
    std::lock_guard lock(mutex_);
    --reserved_;
  }
  wake_.notify_one();  // a task queued meanwhile may run now
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void WorkerPool::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      // A thread held back by a reservation leaves other tasks alone until
      // the reserved one comes.
      wake_.wait(lock, [this] {
        return stopping_ || (!queue_.empty() && (queue_.front().reserved || threads_.size() - busy_ > reserved_));
      });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front().task);
      queue_.pop_front();
      // A task a reservation held back may be free to run now: pass the wake-up on.
      if (!queue_.empty()) wake_.notify_one();
      ++busy_;
    }
    try {
      task();
    } catch (const std::exception& e) {
      // A task must answer its own request; an escape here is a bug, not a reason to die.
      log::error("task failed", {{"pool", name_}, {"error", e.what()}});
    }
    std::lock_guard lock(mutex_);
    --busy_;
    if (!queue_.empty()) wake_.notify_one();
  }
}

}  // namespace scalecache
