#include "lifecycle/health_probe.hpp"

#include <curl/curl.h>

#include <iostream>
#include <memory>

#include "config/config.hpp"

namespace scalecache {

namespace {

// The answer's body is not needed: only its status says ready or not.
size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

bool listens_on_every_address(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "*" || host == "::" || host == "[::]";
}

}  // namespace

std::string default_probe_url(const ServerConfig& server) {
  std::string host = listens_on_every_address(server.host) ? "127.0.0.1" : server.host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(server.port) + "/readyz";
}

int run_health_probe(const std::string& url, std::chrono::milliseconds timeout) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    std::cerr << "probe: curl_easy_init failed\n";
    return 1;
  }
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  // Always straight to the instance: Docker hands containers the daemon's
  // http_proxy settings, and a proxy would turn a healthy service unhealthy.
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "scalecache-probe");
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    std::cerr << "probe: " << url << ": " << curl_easy_strerror(rc) << "\n";
    // A URL that can never work is a configuration error, not "not ready".
    return rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ? 2 : 1;
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    std::cerr << "probe: " << url << ": HTTP " << status << "\n";
    return 1;
  }
  return 0;
}

}  // namespace scalecache
