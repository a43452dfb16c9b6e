#pragma once
// The worker tier's metrics, registered beside the process's own (Metrics)
// in the worker process only. Names are a contract with the dashboard and the
// alert rules (docs/CONTRACT.md); no label carries a key.

#include <array>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "metrics/metrics.hpp"

namespace scalecache {

class WorkerMetrics {
 public:
  // What became of a job, or of one attempt at it (Retry).
  enum class Result { Ok, Retry, Dead, Expired };

  explicit WorkerMetrics(Metrics& metrics);

  void job(Result result) { jobs_[static_cast<int>(result)]->Increment(); }
  void job_duration(double seconds) { duration_->Observe(seconds); }
  void claimed(std::size_t jobs) { claims_->Increment(static_cast<double>(jobs)); }
  void set_in_progress(std::size_t jobs) { in_progress_->Set(static_cast<double>(jobs)); }
  // The queue as a whole (every worker reports the same values; dashboards take max()).
  void set_queue(int64_t pending, int64_t waiting, double oldest_age_seconds);

 private:
  std::array<prometheus::Counter*, 4> jobs_{};
  prometheus::Histogram* duration_;
  prometheus::Counter* claims_;
  prometheus::Gauge* in_progress_;
  prometheus::Gauge* pending_;
  prometheus::Gauge* waiting_;
  prometheus::Gauge* oldest_age_;
};

}  // namespace scalecache
