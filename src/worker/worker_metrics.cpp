#include "worker/worker_metrics.hpp"

namespace scalecache {

WorkerMetrics::WorkerMetrics(Metrics& metrics) {
  prometheus::Registry& registry = metrics.registry();
  auto& jobs = prometheus::BuildCounter()
                   .Name("scalecache_worker_jobs_total")
                   .Help("Jobs finished by result (ok, dead, expired), and failed attempts retried (retry)")
                   .Register(registry);
  jobs_ = {&jobs.Add({{"result", "ok"}}), &jobs.Add({{"result", "retry"}}), &jobs.Add({{"result", "dead"}}),
           &jobs.Add({{"result", "expired"}})};
  duration_ = &prometheus::BuildHistogram()
                   .Name("scalecache_worker_job_duration_seconds")
                   .Help("Time from a job's pick-up to its end, attempts and backoff included")
                   .Register(registry)
                   .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  claims_ = &prometheus::BuildCounter()
                 .Name("scalecache_worker_claims_total")
                 .Help("Jobs taken over from a worker that stopped sending heartbeats (XAUTOCLAIM)")
                 .Register(registry)
                 .Add({});
  in_progress_ = &prometheus::BuildGauge()
                      .Name("scalecache_worker_jobs_in_progress")
                      .Help("Jobs this worker holds")
                      .Register(registry)
                      .Add({});
  auto& queue = prometheus::BuildGauge()
                    .Name("scalecache_queue_jobs")
                    .Help("Jobs in the queue: pending (a worker holds them) and waiting (no worker yet: the lag)")
                    .Register(registry);
  pending_ = &queue.Add({{"state", "pending"}});
  waiting_ = &queue.Add({{"state", "waiting"}});
  oldest_age_ = &prometheus::BuildGauge()
                     .Name("scalecache_queue_oldest_job_age_seconds")
                     .Help("Age of the oldest job not yet done; 0 when the queue is empty")
                     .Register(registry)
                     .Add({});
}

void WorkerMetrics::set_queue(int64_t pending, int64_t waiting, double oldest_age_seconds) {
  pending_->Set(static_cast<double>(pending));
  waiting_->Set(static_cast<double>(waiting));
  oldest_age_->Set(oldest_age_seconds);
}

}  // namespace scalecache
