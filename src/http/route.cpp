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

}  // namespace scalecache
