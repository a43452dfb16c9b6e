#include "worker/job_runner.hpp"

#include <algorithm>

#include "util/log.hpp"

namespace scalecache {

JobRunner::JobRunner(Options options, SharedTier& tier, OriginFill& fill, JobLedger& ledger, WorkerMetrics& metrics,
                     const TimeSource& time, Pause pause)
    : options_(options),
      tier_(tier),
      fill_(fill),
      ledger_(ledger),
      metrics_(metrics),
      time_(time),
      pause_(std::move(pause)) {}

JobRunner::End JobRunner::run(const std::string& id, const StreamFields& fields, const std::optional<Job>& job) {
  const auto started = std::chrono::steady_clock::now();
  End end = End::Done;
  if (!job) {
    log::warn("not a job: dead-lettered", {{"id", id}});
    ledger_.dead_letter(id, fields, "not a job");
    metrics_.job(WorkerMetrics::Result::Dead);
  } else if (!tier_.extend_lease(job->key, job->lease.token, options_.lease_ttl_ms)) {
    // The lease ran out before anyone picked the job up: its waiters have
    // given up or made a new job. Nobody waits for this one.
    log::info("job expired before it ran", {{"key", job->key}, {"request_id", job->request_id}});
    ledger_.ack(id);
    metrics_.job(WorkerMetrics::Result::Expired);
  } else {
    end = attempt_until_done(id, fields, *job);
  }
  if (end == End::Done) {
    metrics_.job_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return end;
}

JobRunner::End JobRunner::attempt_until_done(const std::string& id, const StreamFields& fields, const Job& job) {
  for (;;) {
    const int64_t tries = ledger_.count_try(id);
    if (tries == 0) return End::HandedBack;  // the store is gone: another worker (or we) will claim it again
    if (tries > options_.max_attempts) {
      give_up(id, fields, job, "worker.max_attempts used up by workers that stopped");
      return End::Done;
    }
    SharedTier::Lease lease = job.lease;
    OriginFill::Result result = fill_.run(job.key, lease, time_.now_ms() + options_.origin_timeout_ms);
    if (result.status == OriginStatus::Ok || result.status == OriginStatus::NotFound) {
      if (!lease.token.empty()) tier_.release_lease(job.key, lease.token);  // the fill did not (store down)
      ledger_.ack(id);
      metrics_.job(WorkerMetrics::Result::Ok);
      log::debug("job done", {{"key", job.key}, {"request_id", job.request_id}, {"tries", std::to_string(tries)}});
      return End::Done;
    }
    if (tries >= options_.max_attempts) {
      give_up(id, fields, job, result.detail);
      return End::Done;
    }
    metrics_.job(WorkerMetrics::Result::Retry);
    log::info(
        "job attempt failed; retrying",
        {{"key", job.key}, {"request_id", job.request_id}, {"tries", std::to_string(tries)}, {"error", result.detail}});
    if (!pause_(backoff(tries))) return End::HandedBack;
  }
}

void JobRunner::give_up(const std::string& id, const StreamFields& fields, const Job& job, const std::string& reason) {
  log::warn("job dead-lettered", {{"key", job.key}, {"request_id", job.request_id}, {"reason", reason}});
  ledger_.dead_letter(id, fields, reason);
  tier_.mark_failed(job.key, job.lease);
  metrics_.job(WorkerMetrics::Result::Dead);
}

std::chrono::milliseconds JobRunner::backoff(int64_t tries) const {
  // tries >= 1: backoff_ms before the 2nd call, twice that before the 3rd, ...
  int64_t delay = options_.backoff_ms;
  for (int64_t i = 1; i < tries && delay < options_.backoff_max_ms; ++i) delay *= 2;
  return std::chrono::milliseconds(std::min(delay, options_.backoff_max_ms));
}

}  // namespace scalecache
