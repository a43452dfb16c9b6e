#include "http/route.hpp"

namespace scalecache {

const char* route_name(Route route) {
  switch (route) {
    case Route::Data: return "data";
    case Route::Purge: return "purge";
    case Route::Healthz: return "healthz";
    case Route::Readyz: return "readyz";
    case Route::Metrics: return "metrics";
    case Route::Other: return "other";
  }
  return "other";
}

Route route_of(std::string_view path, Pistache::Http::Method method) {
  if (path == "/data" || path.starts_with(kDataPrefix)) {
    return method == Pistache::Http::Method::Delete ? Route::Purge : Route::Data;
  }
  if (path.starts_with(kTagsPrefix)) return Route::Purge;
  if (path == "/healthz") return Route::Healthz;
  if (path == "/readyz") return Route::Readyz;
  if (path == "/metrics") return Route::Metrics;
  return Route::Other;
}

}  // namespace scalecache
