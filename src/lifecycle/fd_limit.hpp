#pragma once
// The open-file limit. Every connection costs a descriptor; when they run out
// the listener can't accept and clients see refused or hanging connects, with
// nothing in Pistache's output to say why. So: raise the soft limit to the
// hard one at start-up, and watch usage, logging once each time it crosses
// 90 % of the limit and once when it is back under 80 %.

#include <dirent.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

namespace scalecache {

// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the soft limit now in force.
uint64_t raise_open_file_limit();
// The soft limit in force now (it can be changed from outside, by prlimit).
uint64_t open_file_limit();

class FdWatch {
 public:
  explicit FdWatch(int interval_ms = 1000);

 private:
  void loop(std::stop_token stop);

  const int interval_ms_;
  // Opened once and rewound each time: at the limit, opening it would fail.
  // Declared before the thread, so it is closed only after the thread ends.
  std::unique_ptr<DIR, int (*)(DIR*)> fd_dir_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // its destructor asks the loop to stop and joins it
};

// Descriptors open in this process (0 if /proc/self/fd can't be read).
uint64_t open_fd_count();

}  // namespace scalecache
