#pragma once
// The original design's stand-in for an expensive computation: waits, then
// answers "Fetched data for <key>".

#include <chrono>

#include "origin/origin.hpp"

namespace scalecache {

class SimulatedOrigin : public Origin {
 public:
  explicit SimulatedOrigin(std::chrono::milliseconds delay) : delay_(delay) {}
  OriginResponse fetch(const std::string& key, std::chrono::milliseconds budget) override;

 private:
  std::chrono::milliseconds delay_;
};

}  // namespace scalecache
