#pragma once
// The header fields of an http origin answer that scalecache reads: its
// Cache-Control and its tags (cache.tag_header). Fed the header lines of a
// response one at a time, as libcurl reports them. A field sent on several
// lines is one list (RFC 9110 §5.3), so no line is lost to a later one:
// Cache-Control lines are joined with ", ", tag lines with " ". A status line
// starts over, so after a 100 Continue (or a redirect) only the final
// response counts.

#include <string>
#include <string_view>
#include <vector>

namespace scalecache {

class OriginHeaders {
 public:
  explicit OriginHeaders(std::string_view tag_header);  // matched in any case

  void add_line(std::string_view line);  // "Name: value\r\n", or a status line

  const std::string& cache_control() const { return cache_control_; }
  // Split on spaces and commas, empty items dropped, in the order sent.
  std::vector<std::string> tags() const;

 private:
  std::string tag_header_;  // lower case
  std::string cache_control_;
  std::string tags_;
};

}  // namespace scalecache
