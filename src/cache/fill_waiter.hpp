#pragma once
// Waits, on behalf of requests on this replica, for another replica's fill
// of a key whose lease it holds. One thread looks at the keys whose fill
// notice arrived at once, and at every waiting key each poll interval, in
// batches of one round trip (cheap existence checks, then reads of the keys
// filled). A wait ends when the value appears, when the lease disappears
// without a value (its holder died or failed: the lease TTL bounds that), or
// at the deadline. Callbacks run on the waiter thread and must only hand work on.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/entry.hpp"
#include "cache/shared_tier.hpp"
#include "util/clock.hpp"

namespace scalecache {

class FillWaiter {
 public:
  enum class Outcome { Filled, LeaseGone, Bypass, Failed, TimedOut };
  using Callback = std::function<void(Outcome, std::optional<Entry>)>;

  FillWaiter(SharedTier& tier, int64_t poll_ms, const TimeSource& time);
  ~FillWaiter();  // answers every remaining wait with TimedOut
  FillWaiter(const FillWaiter&) = delete;
  FillWaiter& operator=(const FillWaiter&) = delete;

  void wait(const std::string& key, int64_t deadline_ms, Callback callback);
  void notify_filled(const std::string& key);

 private:
  struct Waiting {
    int64_t deadline_ms;
    Callback callback;
  };
  struct Looked {
    std::string key;
    Outcome outcome;
    std::optional<Entry> entry;
  };
  void loop();
  // Looks at the shared tier for `keys` (with each key's latest deadline);
  // returns the waits that are over.
  std::vector<Looked> look(const std::vector<std::pair<std::string, int64_t>>& keys);
  void answer(const std::vector<Looked>& over, std::unique_lock<std::mutex>& lock);

  SharedTier& tier_;
  const int64_t poll_ms_;
  const TimeSource& time_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::unordered_map<std::string, std::vector<Waiting>> waiting_;
  std::unordered_set<std::string> notified_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace scalecache
