#pragma once
// The worker tier's ports in memory: a queue that keeps the jobs put on it
// (or refuses them, as a full one does) and a ledger that counts tries, acks
// and dead letters as the Redis stream would.

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "queue/job_ledger.hpp"
#include "queue/job_queue.hpp"

namespace scalecache::testing {

class FakeJobQueue final : public JobQueue {
 public:
  std::atomic<bool> full{false};

  Enqueued enqueue(const Job& job) override {
    if (full) return Enqueued::Full;
    std::lock_guard lock(mutex_);
    jobs_.push_back(job);
    return Enqueued::Queued;
  }
  std::vector<Job> jobs() {
    std::lock_guard lock(mutex_);
    return jobs_;
  }

 private:
  std::mutex mutex_;
  std::vector<Job> jobs_;
};

class FakeJobLedger final : public JobLedger {
 public:
  int64_t count_try(const std::string& id) override {
    std::lock_guard lock(mutex_);
    return ++tries_[id];
  }
  bool ack(const std::string& id) override {
    std::lock_guard lock(mutex_);
    acked_.push_back(id);
    return true;
  }
  bool dead_letter(const std::string& id, const StreamFields&, const std::string& reason) override {
    std::lock_guard lock(mutex_);
    dead_[id] = reason;
    return true;
  }

  int64_t tries(const std::string& id) {
    std::lock_guard lock(mutex_);
    return tries_[id];
  }
  std::vector<std::string> acked() {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::map<std::string, std::string> dead() {
    std::lock_guard lock(mutex_);
    return dead_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, int64_t> tries_;
  std::vector<std::string> acked_;
  std::map<std::string, std::string> dead_;
};

}  // namespace scalecache::testing
