#pragma once

namespace scalecache {

// What a request asked for, by path and method: the label of the request metrics.
enum class Route { Data, Purge, Healthz, Readyz, Metrics, Other };

const char* route_name(Route route);

}  // namespace scalecache
