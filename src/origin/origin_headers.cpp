#include "origin/origin_headers.hpp"

#include <cctype>

namespace scalecache {
namespace {

std::string lower(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

bool header_is(std::string_view line, std::string_view lower_name) {
  if (lower_name.empty() || line.size() <= lower_name.size() || line[lower_name.size()] != ':') return false;
  return lower(line.substr(0, lower_name.size())) == lower_name;
}

std::string_view header_value(std::string_view line, std::size_t name_size) {
  std::string_view v = line.substr(name_size + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ' || v.back() == '\t')) {
    v.remove_suffix(1);
  }
  return v;
}

void join(std::string& list, std::string_view value, std::string_view separator) {
  if (value.empty()) return;
  if (!list.empty()) list.append(separator);
  list.append(value);
}

}  // namespace

OriginHeaders::OriginHeaders(std::string_view tag_header) : tag_header_(lower(tag_header)) {}

void OriginHeaders::add_line(std::string_view line) {
  if (line.starts_with("HTTP/")) {
    cache_control_.clear();
    tags_.clear();
  } else if (header_is(line, "cache-control")) {
    join(cache_control_, header_value(line, 13), ", ");
  } else if (header_is(line, tag_header_)) {
    join(tags_, header_value(line, tag_header_.size()), " ");
  }
}

std::vector<std::string> OriginHeaders::tags() const {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < tags_.size()) {
    const auto end = tags_.find_first_of(" ,", i);
    if (end != i) out.push_back(tags_.substr(i, end == std::string::npos ? std::string::npos : end - i));
    if (end == std::string::npos) break;
    i = end + 1;
  }
  return out;
}

}  // namespace scalecache
