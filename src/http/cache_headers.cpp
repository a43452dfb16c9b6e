#include "http/cache_headers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace scalecache {

std::string etag_value(uint64_t etag) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(etag));
  return buf;
}

CacheHeaders cache_headers(const EntryMeta& meta, const CacheOutcome& outcome, int64_t now_ms) {
  CacheHeaders h;
  h.etag = etag_value(meta.etag);
  h.age = std::to_string(std::max<int64_t>(0, (now_ms - meta.stored_at_ms) / 1000));
  // Rounded to the nearest second, so an answer just stored says exactly its
  // TTL; negative once stale.
  const int64_t ttl_s = std::lround(static_cast<double>(meta.fresh_until_ms - now_ms) / 1000.0);
  switch (meta.downstream) {
    case Downstream::Shared: h.cache_control = "max-age=" + std::to_string(std::max<int64_t>(0, ttl_s)); break;
    case Downstream::Private: h.cache_control = "private"; break;  // the origin's word, passed on
    case Downstream::NoStore: h.cache_control = "no-store"; break;
  }

  // RFC 9211: "hit" when answered from storage without going forward,
  // otherwise fwd=<why> with the outcome of the forward request.
  std::string status = "scalecache";
  switch (outcome.source) {
    case CacheSource::L1: status += "; hit; ttl=" + std::to_string(ttl_s) + "; detail=l1"; break;
    case CacheSource::L2:
      status += outcome.collapsed ? "; fwd=miss; collapsed; detail=l2"
                                  : "; hit; ttl=" + std::to_string(ttl_s) + "; detail=l2";
      break;
    case CacheSource::Negative: status += "; hit; ttl=" + std::to_string(ttl_s) + "; detail=negative"; break;
    case CacheSource::Origin:
      status += "; fwd=miss";
      if (outcome.collapsed) status += "; collapsed";
      if (outcome.stored) status += "; stored";
      break;
    case CacheSource::Stale:
      if (outcome.stale == StaleReason::Error) {
        status += "; fwd=stale; ttl=" + std::to_string(ttl_s) + "; detail=stale-if-error";
      } else {
        status += "; hit; ttl=" + std::to_string(ttl_s) + "; detail=stale-while-revalidate";
      }
      break;
  }
  h.cache_status = std::move(status);
  return h;
}

bool if_none_match(std::string_view header, std::string_view etag) {
  auto strip_weak = [](std::string_view tag) { return tag.starts_with("W/") ? tag.substr(2) : tag; };
  const std::string_view wanted = strip_weak(etag);
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*" || strip_weak(item) == wanted) return true;
  }
  return false;
}

}  // namespace scalecache
