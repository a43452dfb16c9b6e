#pragma once
// The slow thing scalecache protects. fetch() blocks: it is only ever called
// from the origin worker pool, never from an HTTP reactor thread.

#include <chrono>
#include <string>
#include <vector>

namespace scalecache {

enum class OriginStatus { Ok, NotFound, Error, Timeout };

struct OriginResponse {
  using Status = OriginStatus;
  Status status = Status::Error;
  std::string body;
  std::string detail;      // why it failed, for the error body and the log
  bool too_large = false;  // Error: the answer was larger than the origin's body limit
  // http origin only: the answer's Cache-Control header and its tags.
  std::string cache_control;
  std::vector<std::string> tags;

  static OriginResponse ok(std::string body) {
    OriginResponse r;
    r.status = Status::Ok;
    r.body = std::move(body);
    return r;
  }
  static OriginResponse failed(Status status, std::string detail) {
    OriginResponse r;
    r.status = status;
    r.detail = std::move(detail);
    return r;
  }
};

class Origin {
 public:
  virtual ~Origin() = default;
  // Answers within `budget` (what is left of the request's deadline, never
  // more than the origin's own timeout), or gives up with Timeout.
  virtual OriginResponse fetch(const std::string& key, std::chrono::milliseconds budget) = 0;
};

}  // namespace scalecache
