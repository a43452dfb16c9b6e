#pragma once
// The standard process_* metrics, read from /proc at scrape time.

#include "metrics/metrics.hpp"

namespace scalecache {

// Adds process_cpu_seconds_total, process_resident_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds.
void register_process_metrics(Metrics& metrics);

}  // namespace scalecache
