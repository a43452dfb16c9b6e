#pragma once
// A fixed set of threads draining a bounded queue. Submitting to a full queue
// fails at once instead of blocking: the caller turns that into a 503, which
// is how overload stays bounded in memory and latency.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace scalecache {

class WorkerPool {
 public:
  using Task = std::function<void()>;

  WorkerPool(std::string name, std::size_t threads, std::size_t max_queue);
  ~WorkerPool();  // runs every queued task, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full or the pool is stopping; the task is dropped.
  bool submit(Task task, bool reserved = false);

  // Stops accepting tasks, finishes the queued ones and joins the threads.
  void stop();

  std::size_t queued() const;
  // Holds back an idle thread for a task the caller submits next
  // (submit(task, true)) or gives up (release_reservation()): false when every
  // thread is busy, taken or owed to queued tasks.
  bool reserve_idle_thread();
  void release_reservation();

 private:
  void run();

  const std::string name_;
  const std::size_t max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  struct Queued {
    Task task;
    bool reserved;  // submitted into a reservation: runs before anything else
  };
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::size_t busy_ = 0;      // threads running a task
  std::size_t reserved_ = 0;  // idle threads held back by reserve_idle_thread()
  std::vector<std::thread> threads_;
};

}  // namespace scalecache
