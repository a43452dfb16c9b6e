#pragma once
// The serving replicas' side of the worker tier: put a job on the queue.
// redis_job_stream implements it on a Redis Stream; the unit tests use an
// in-memory fake. Never throws, blocks at most the store's timeout.

#include "queue/job.hpp"

namespace scalecache {

class JobQueue {
 public:
  enum class Enqueued {
    Queued,       // a worker will pick it up
    Full,         // queue.max_length jobs are waiting or running: the caller answers 503
    Unavailable,  // the store could not be reached
  };

  virtual ~JobQueue() = default;
  virtual Enqueued enqueue(const Job& job) = 0;
};

}  // namespace scalecache
