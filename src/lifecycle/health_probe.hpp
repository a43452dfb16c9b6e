#pragma once
// `scalecache --probe`: the image has no shell and no curl, so a Docker or
// compose HEALTHCHECK runs the service binary itself to ask a running
// instance whether it is ready.

#include <chrono>
#include <string>

namespace scalecache {

struct ServerConfig;

// The URL `--probe` asks when none is given: /readyz of the configured port,
// on loopback unless the server listens on one specific address.
std::string default_probe_url(const ServerConfig& server);

// GETs `url` once within `timeout`. Returns 0 for a 2xx answer, 1 for
// another status, a refused connection or a timeout, and 2 for a URL that
// is malformed or not http(s); every failure prints one line to stderr.
int run_health_probe(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace scalecache
