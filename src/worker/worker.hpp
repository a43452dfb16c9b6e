#pragma once
// The worker's loop: one reader thread takes jobs off the stream, as many
// as there are free slots (worker.concurrency), first those a dead worker
// left behind (claimed once idle past claim_idle_ms), then new ones; a pool
// runs them (JobRunner). A heartbeat thread keeps every held job this
// worker's (its idle time restarts) and its lease alive, so a job that takes
// long is never taken over, and one whose worker died soon is.
//
// stop(): no more reading; jobs that end within the grace period end; the
// rest are handed back (made to look idle) so another worker claims them at
// once; their calls in progress are abandoned by the caller's exit.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "cache/shared_tier.hpp"
#include "redis/redis_job_stream.hpp"
#include "util/worker_pool.hpp"
#include "worker/job_runner.hpp"
#include "worker/worker_metrics.hpp"

namespace scalecache {

class Worker {
 public:
  struct Options {
    std::string consumer;
    std::size_t concurrency;
    int64_t claim_idle_ms;
    int64_t lease_ttl_ms;
  };
  // `run` runs one job on a pool thread (JobRunner::run); `on_ready` is
  // called once, when the consumer group is known to exist.
  using Run = std::function<JobRunner::End(const RedisJobStream::Delivery&)>;

  Worker(Options options, RedisJobStream& stream, SharedTier& tier, WorkerMetrics& metrics, Run run,
         std::function<void()> on_ready);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  // True while stopping: a backoff pause ends early (the job is handed back).
  bool pause(std::chrono::milliseconds delay);
  // Returns the number of jobs handed back.
  std::size_t stop(std::chrono::milliseconds grace);

 private:
  void read_loop();
  void heartbeat_loop();
  void dispatch(std::vector<RedisJobStream::Delivery> deliveries);
  void finished(const std::string& id, JobRunner::End end);
  std::size_t free_slots();

  const Options options_;
  RedisJobStream& stream_;
  SharedTier& tier_;
  WorkerMetrics& metrics_;
  const Run run_;
  const std::function<void()> on_ready_;

  std::mutex mutex_;
  std::condition_variable changed_;  // a job ended, or stop() began
  struct Held {
    std::string key;
    std::string token;  // the job's lease; empty for an entry that is not a job
  };
  std::map<std::string, Held> held_;  // by entry id
  bool stopping_ = false;
  WorkerPool pool_;
  std::thread reader_;
  std::thread heartbeat_;
};

}  // namespace scalecache
