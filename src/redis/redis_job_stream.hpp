#pragma once
// The worker tier's queue on one Redis: a Stream of jobs read through the
// consumer group "workers", so each job goes to one worker and stays in the
// group's pending list until that worker acknowledges it.
//
// Bounded without ever trimming: an entry is deleted only once it is done
// (acknowledged or dead-lettered), so the stream's length is the number of
// jobs queued or running, and enqueue refuses a job when it reaches
// queue.max_length. A worker that dies leaves its jobs pending; a live worker
// keeps resetting its jobs' idle time (heartbeat), so a job idle past
// worker.claim_idle_ms belongs to a dead one and is claimed (XAUTOCLAIM).
//
// Serving replicas use enqueue() only. The reading side (read, claim_idle)
// has a connection of its own, because a blocking XREADGROUP must not hold a
// pooled one; call it from one thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "queue/job_codec.hpp"
#include "queue/job_ledger.hpp"
#include "queue/job_queue.hpp"
#include "redis/key_scheme.hpp"
#include "redis/redis_store.hpp"

struct redisContext;

namespace scalecache {

class RedisJobStream final : public JobQueue, public JobLedger {
 public:
  struct Options {
    RedisStore::Options store;
    std::string key_prefix;
    int64_t max_length;
  };

  // One stream entry handed to this worker. `job` is empty for an entry that
  // is not a job (it is dead-lettered as it is).
  struct Delivery {
    std::string id;
    StreamFields fields;
    std::optional<Job> job;
  };

  struct Stats {
    bool ok = false;
    int64_t length = 0;              // queued or running
    int64_t pending = 0;             // delivered to a worker, not yet done
    int64_t oldest_enqueued_ms = 0;  // the oldest job's entry time; 0 when there is none
  };

  RedisJobStream(Options options, std::function<void(bool)> on_health);
  ~RedisJobStream() override;
  RedisJobStream(const RedisJobStream&) = delete;
  RedisJobStream& operator=(const RedisJobStream&) = delete;

  Enqueued enqueue(const Job& job) override;

  // --- the workers' side ---
  // Creates the consumer group (from the stream's start, so jobs queued
  // before any worker ran are read too); false when Redis could not be asked.
  bool ensure_group();
  // New jobs for `consumer`, waiting up to `block_ms` for one.
  std::vector<Delivery> read(const std::string& consumer, std::size_t count, int64_t block_ms);
  // Jobs idle at least `min_idle_ms` (their worker died or handed them back), now `consumer`'s.
  std::vector<Delivery> claim_idle(const std::string& consumer, std::size_t count, int64_t min_idle_ms);
  // Heartbeat: the jobs stay `consumer`'s (their idle time restarts at 0).
  void keep(const std::string& consumer, const std::vector<std::string>& ids);
  // Makes held jobs look idle for `idle_ms`, so the next claim_idle() anywhere takes them at once.
  void hand_back(const std::string& consumer, const std::vector<std::string>& ids, int64_t idle_ms);
  // Counts one more origin call for the entry and returns the count (crashed
  // workers' calls included); 0 when Redis could not be asked.
  int64_t count_try(const std::string& id) override;
  // Done: acknowledged and deleted (no longer counts against max_length).
  bool ack(const std::string& id) override;
  // Done for good: copied to the dead-letter stream with `reason`, then as ack().
  bool dead_letter(const std::string& id, const StreamFields& fields, const std::string& reason) override;
  Stats stats();

 private:
  // A command on the reader's own connection, (re)connecting as needed; null on failure.
  struct ReplyDeleter {
    void operator()(void* reply) const;
  };
  using RawReply = std::unique_ptr<void, ReplyDeleter>;
  RawReply reader_command(const std::vector<std::string>& args, int64_t timeout_ms, std::string& error);

  const Options options_;
  const KeyScheme keys_;
  RedisStore store_;
  redisContext* reader_ = nullptr;
  int64_t reader_timeout_ms_ = 0;
};

}  // namespace scalecache
