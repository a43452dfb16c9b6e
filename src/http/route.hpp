#pragma once

#include <string_view>

#include <pistache/http_defs.h>

namespace scalecache {

// What a request asked for, by path and method: the label of the request metrics.
enum class Route { Data, Purge, Healthz, Readyz, Metrics, Other };

const char* route_name(Route route);

// The route of a request path and method.
Route route_of(std::string_view path, Pistache::Http::Method method);

inline constexpr std::string_view kDataPrefix = "/data/";
inline constexpr std::string_view kTagsPrefix = "/tags/";

}  // namespace scalecache
