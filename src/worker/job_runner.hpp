#pragma once
// One job, start to end, on a worker thread: check that its lease is still
// the job's (else nobody waits for it any more: expired), call the origin and
// store the fill through OriginFill, the same path a serving replica takes
// (value, tags, notice, lease release), and acknowledge. A failed attempt is
// retried after a backoff that doubles, up to max_attempts origin calls in
// all (counted in the ledger, so calls by workers that died count too); then
// the job goes to the dead-letter stream and its waiters are told
// (SharedTier::mark_failed).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cache/origin_fill.hpp"
#include "cache/shared_tier.hpp"
#include "queue/job.hpp"
#include "queue/job_codec.hpp"
#include "queue/job_ledger.hpp"
#include "util/clock.hpp"
#include "worker/worker_metrics.hpp"

namespace scalecache {

class JobRunner {
 public:
  struct Options {
    int64_t max_attempts;
    int64_t backoff_ms;
    int64_t backoff_max_ms;
    int64_t lease_ttl_ms;       // how long each extension of the job's lease lasts
    int64_t origin_timeout_ms;  // one origin call, at most
  };
  enum class End { Done, HandedBack };
  // Waits `delay` before a retry; false when the worker is stopping (the
  // job is then handed back, not retried here).
  using Pause = std::function<bool(std::chrono::milliseconds delay)>;

  JobRunner(Options options, SharedTier& tier, OriginFill& fill, JobLedger& ledger, WorkerMetrics& metrics,
            const TimeSource& time, Pause pause);

  // Runs entry `id` (`job` empty: the entry is not a job) to its end; counts
  // the result and the duration.
  End run(const std::string& id, const StreamFields& fields, const std::optional<Job>& job);

 private:
  End attempt_until_done(const std::string& id, const StreamFields& fields, const Job& job);
  void give_up(const std::string& id, const StreamFields& fields, const Job& job, const std::string& reason);
  std::chrono::milliseconds backoff(int64_t tries) const;

  const Options options_;
  SharedTier& tier_;
  OriginFill& fill_;
  JobLedger& ledger_;
  WorkerMetrics& metrics_;
  const TimeSource& time_;
  const Pause pause_;
};

}  // namespace scalecache
