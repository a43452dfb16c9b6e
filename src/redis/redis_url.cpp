#include "redis/redis_url.hpp"

#include <curl/curl.h>

#include <charconv>
#include <memory>
#include <stdexcept>

namespace scalecache {
namespace {

using UrlHandle = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

// Returns an empty string for a part the URL does not have.
std::string url_part(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

}  // namespace

RedisAddress parse_redis_url(const std::string& url) {
  if (!url.starts_with("redis://")) {
    throw std::invalid_argument("expected a URL of the form redis://[:password@]host:port[/db]");
  }
  UrlHandle handle(curl_url(), &curl_url_cleanup);
  if (curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    throw std::invalid_argument("not a valid URL (expected redis://[:password@]host:port[/db])");
  }
  RedisAddress address;
  address.host = url_part(handle.get(), CURLUPART_HOST);
  if (address.host.empty()) throw std::invalid_argument("the URL names no host");
  if (address.host.size() > 2 && address.host.front() == '[') {
    address.host = address.host.substr(1, address.host.size() - 2);  // IPv6 literal
  }
  const std::string port = url_part(handle.get(), CURLUPART_PORT);
  if (!port.empty()) {
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), address.port);
    if (ec != std::errc() || ptr != port.data() + port.size() || address.port < 1 || address.port > 65535) {
      throw std::invalid_argument("port must be from 1 to 65535");
    }
  }
  address.password = url_part(handle.get(), CURLUPART_PASSWORD, CURLU_URLDECODE);
  std::string path = url_part(handle.get(), CURLUPART_PATH);
  if (!path.empty() && path != "/") {
    path.erase(0, 1);
    auto [ptr, ec] = std::from_chars(path.data(), path.data() + path.size(), address.db);
    if (ec != std::errc() || ptr != path.data() + path.size() || address.db < 0) {
      throw std::invalid_argument("database must be a number, as in redis://host:6379/0");
    }
  }
  return address;
}

}  // namespace scalecache
