#include "redis/redis_url.hpp"

#include <curl/curl.h>

#include <algorithm>
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
  address.username = url_part(handle.get(), CURLUPART_USER, CURLU_URLDECODE);
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

std::vector<RedisAddress> parse_redis_nodes(const std::string& list) {
  std::vector<RedisAddress> nodes;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    std::string entry = list.substr(start, comma - start);
    start = comma + 1;
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (entry.empty()) continue;
    const std::size_t colon = entry.rfind(':');
    if (colon == std::string::npos || colon == 0 || entry.find('@') != std::string::npos) {
      throw std::invalid_argument("expected host:port, got \"" + entry + "\"");
    }
    // Parsed as a URL so hosts (IPv6 literals included) and ports follow one set of rules.
    RedisAddress node = parse_redis_url("redis://" + entry);
    if (node.db != 0) throw std::invalid_argument("expected host:port, got \"" + entry + "\"");
    nodes.push_back(std::move(node));
  }
  if (nodes.empty()) throw std::invalid_argument("expected at least one host:port");
  return nodes;
}

std::string endpoint_of(const RedisAddress& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  return (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

}  // namespace scalecache
