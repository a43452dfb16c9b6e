#include "metrics/process_metrics.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "lifecycle/fd_limit.hpp"

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace scalecache {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_time_seconds = 0;  // since boot
  double rss_bytes = 0;
};

// /proc/self/stat: fields after the parenthesised command name, which may
// itself contain spaces; utime is field 14, stime 15, starttime 22, rss 24.
ProcStat read_proc_stat() {
  ProcStat stat;
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return stat;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (int index = 3; fields >> field; ++index) {
    if (index == 14 || index == 15) stat.cpu_seconds += std::stod(field) / ticks;
    if (index == 22) stat.start_time_seconds = std::stod(field) / ticks;
    if (index == 24) {
      stat.rss_bytes = std::stod(field) * static_cast<double>(sysconf(_SC_PAGESIZE));
      break;
    }
  }
  return stat;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("btime ")) return std::stod(line.substr(6));
  }
  return 0;
}

// Builds the families from /proc on each scrape, so the counter is a real
// counter (a prometheus::Counter can only be incremented, not set).
class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector() : start_time_(boot_time_seconds() + read_proc_stat().start_time_seconds) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const ProcStat stat = read_proc_stat();
    return {
        family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               prometheus::MetricType::Counter, stat.cpu_seconds),
        family("process_resident_memory_bytes", "Resident memory size in bytes.", prometheus::MetricType::Gauge,
               stat.rss_bytes),
        family("process_open_fds", "Number of open file descriptors.", prometheus::MetricType::Gauge,
               static_cast<double>(open_fd_count())),
        family("process_max_fds", "Maximum number of open file descriptors.", prometheus::MetricType::Gauge,
               static_cast<double>(sysconf(_SC_OPEN_MAX))),
        family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
               prometheus::MetricType::Gauge, start_time_),
    };
  }

 private:
  static prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type,
                                         double value) {
    prometheus::ClientMetric metric;
    if (type == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    return prometheus::MetricFamily{name, help, type, {metric}};
  }

  double start_time_;
};

}  // namespace

void register_process_metrics(Metrics& metrics) { metrics.add_collectable(std::make_shared<ProcessCollector>()); }

}  // namespace scalecache
