#pragma once
// The slow thing scalecache protects. fetch() blocks: it is only ever called
// from the origin worker pool, never from an HTTP reactor thread.

#include <string>

namespace scalecache {

struct OriginResponse {
  enum class Status { Ok, NotFound, Error, Timeout };
  Status status = Status::Error;
  std::string body;
  std::string detail;  // why it failed, for the error body and the log
};

class Origin {
 public:
  virtual ~Origin() = default;
  virtual OriginResponse fetch(const std::string& key) = 0;
};

}  // namespace scalecache
