#include "lifecycle/fd_limit.hpp"

#include <sys/resource.h>

#include <chrono>
#include <string>

#include "util/log.hpp"

namespace scalecache {

uint64_t open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return UINT64_MAX;
  return static_cast<uint64_t>(limit.rlim_cur);
}

uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit.rlim_cur);
}

namespace {

// Entries of an open /proc/self/fd, less the directory's own descriptor.
uint64_t count_entries(DIR* dir) {
  uint64_t count = 0;
  rewinddir(dir);
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  return count > 0 ? count - 1 : 0;
}

}  // namespace

uint64_t open_fd_count() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  const uint64_t count = count_entries(dir);
  closedir(dir);
  return count;
}

FdWatch::FdWatch(int interval_ms)
    : interval_ms_(interval_ms),
      fd_dir_(opendir("/proc/self/fd"), closedir),
      thread_([this](std::stop_token stop) { loop(stop); }) {}

void FdWatch::loop(std::stop_token stop) {
  bool warned = false;
  const std::chrono::milliseconds interval(interval_ms_);
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, stop, interval, [&stop] { return stop.stop_requested(); })) {
    const uint64_t limit = open_file_limit();
    if (fd_dir_ == nullptr || limit == UINT64_MAX) continue;
    const uint64_t open = count_entries(fd_dir_.get());
    if (!warned && open * 10 >= limit * 9) {
      warned = true;
      log::error(
          "open files near the limit: new connections will be refused",
          {{"open_fds", std::to_string(open)},
           {"limit", std::to_string(limit)},
           {"fix", "raise the nofile limit (ulimit -n, the container runtime's nofile, or systemd LimitNOFILE)"}});
    } else if (warned && open * 10 < limit * 8) {
      warned = false;
      log::info("open files back under the limit",
                {{"open_fds", std::to_string(open)}, {"limit", std::to_string(limit)}});
    }
  }
}

}  // namespace scalecache
