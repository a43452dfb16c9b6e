#pragma once
// A worker's bookkeeping for the jobs it holds, kept in the queue's store so
// that it outlives the worker: origin calls per job (a job whose workers keep
// dying still ends), done, and dead letters. redis_job_stream implements it;
// the unit tests use a fake.

#include <cstdint>
#include <string>

#include "queue/job_codec.hpp"

namespace scalecache {

class JobLedger {
 public:
  virtual ~JobLedger() = default;
  // One more origin call for entry `id`; the calls so far, this one
  // included; 0 when the store could not be asked.
  virtual int64_t count_try(const std::string& id) = 0;
  // Done: off the queue.
  virtual bool ack(const std::string& id) = 0;
  // Done for good: kept on the dead-letter stream with `reason`, off the queue.
  virtual bool dead_letter(const std::string& id, const StreamFields& fields, const std::string& reason) = 0;
};

}  // namespace scalecache
