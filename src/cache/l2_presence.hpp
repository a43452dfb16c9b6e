#pragma once
// Which keys this replica last saw servable in the shared tier, and until
// when: the guess that picks a miss's first look at L2. A key believed
// present is read plainly (a hit costs the store a GET, no script); any
// other key is read together with the fleet lease step, so a miss costs two
// round trips instead of three. A wrong guess costs a round trip or a
// script, never a wrong answer.
//
// A fixed table of slots, one key each (a newer key takes the slot): memory
// stays bounded whatever the key space, and lookups are two atomic loads.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace scalecache {

class L2Presence {
 public:
  explicit L2Presence(std::size_t slots = std::size_t{1} << 17);

  // The shared tier holds `key`, servable until `until_ms` (wall clock).
  void seen(std::string_view key, int64_t until_ms);
  // Purged or marked stale: no longer believed servable.
  void forget(std::string_view key);
  bool servable(std::string_view key, int64_t now_ms) const;

 private:
  struct Slot {
    std::atomic<uint64_t> hash{0};
    std::atomic<int64_t> until_ms{0};
  };
  Slot& slot(uint64_t hash) const { return slots_[hash & mask_]; }

  const std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace scalecache
