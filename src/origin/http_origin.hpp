#pragma once
// An upstream HTTP API as the origin: GET {base_url}/{percent-encoded key}
// through libcurl. Each worker thread keeps its own easy handle, so
// connections to the upstream are reused across calls.

#include <chrono>
#include <cstddef>
#include <string>

#include "origin/origin.hpp"

namespace scalecache {

class HttpOrigin : public Origin {
 public:
  struct Options {
    std::string base_url;
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds timeout{5000};
    // Larger answers are refused, by their Content-Length before any of the
    // body is read, or as soon as the body grows past it. Must not be 0.
    std::size_t max_body_bytes = 1u << 20;
    std::string tag_header = "Surrogate-Key";  // space-separated tags of an answer
  };

  explicit HttpOrigin(Options options);
  OriginResponse fetch(const std::string& key, std::chrono::milliseconds budget) override;

 private:
  Options options_;
};

}  // namespace scalecache
