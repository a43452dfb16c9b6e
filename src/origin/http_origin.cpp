#include "origin/http_origin.hpp"

#include <curl/curl.h>

#include <algorithm>

#include <memory>
#include <string_view>

#include "origin/curl_memory.hpp"
#include "origin/origin_headers.hpp"

#include "version.hpp"

namespace scalecache {
namespace {

struct EasyHandle {
  CURL* curl = curl_easy_init();
  ~EasyHandle() { curl_easy_cleanup(curl); }
};

struct BodySink {
  CURL* curl;
  std::string body;
  std::size_t limit;
  bool truncated = false;
};

// The body's buffer sized once from Content-Length (bounded by the limit),
// instead of growing by doubling as chunks arrive: no spare capacity, and no
// discarded smaller buffers left as holes in the heap.
void reserve_declared_length(BodySink& sink) {
  curl_off_t declared = -1;
  if (curl_easy_getinfo(sink.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared) == CURLE_OK && declared > 0) {
    sink.body.reserve(std::min(static_cast<std::size_t>(declared), sink.limit));
  }
}

size_t collect_header(char* data, size_t size, size_t count, void* user) {
  static_cast<OriginHeaders*>(user)->add_line(std::string_view(data, size * count));
  return size * count;
}

size_t append_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t bytes = size * count;
  if (sink->body.empty()) reserve_declared_length(*sink);
  if (sink->body.size() + bytes > sink->limit) {
    sink->truncated = true;
    return 0;  // makes curl abort the transfer
  }
  sink->body.append(data, bytes);
  return bytes;
}

std::string escape_key(CURL* curl, const std::string& key) {
  char* escaped = curl_easy_escape(curl, key.data(), static_cast<int>(key.size()));
  std::string out = escaped != nullptr ? escaped : "";
  curl_free(escaped);
  return out;
}

}  // namespace

HttpOrigin::HttpOrigin(Options options) : options_(std::move(options)) {
  if (!curl_memory::install()) curl_global_init(CURL_GLOBAL_DEFAULT);
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

OriginResponse HttpOrigin::fetch(const std::string& key, std::chrono::milliseconds budget) {
  thread_local EasyHandle handle;
  CURL* curl = handle.curl;
  if (curl == nullptr) return OriginResponse::failed(OriginResponse::Status::Error, "curl_easy_init failed");
  curl_easy_reset(curl);  // keeps the connection cache, clears last call's options

  const std::string url = options_.base_url + "/" + escape_key(curl, key);
  BodySink sink{curl, {}, options_.max_body_bytes};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM in a threaded process
  const std::chrono::milliseconds timeout = std::max(std::chrono::milliseconds(1), std::min(options_.timeout, budget));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(options_.connect_timeout, timeout).count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  // Refuses a declared Content-Length above the limit before reading any of
  // the body; append_body stops one that grows past it (chunked, no length).
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body_bytes));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  OriginHeaders headers(options_.tag_header);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  // The key is one escaped path segment: never let libcurl resolve "." or
  // ".." against the base path (the HTTP layer refuses such keys as well).
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, kUserAgent);

  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return OriginResponse::failed(OriginResponse::Status::Timeout, "origin did not answer within the timeout");
  }
  if (sink.truncated || rc == CURLE_FILESIZE_EXCEEDED) {
    OriginResponse response =
        OriginResponse::failed(OriginResponse::Status::Error, "origin answer larger than origin.max_body_bytes (" +
                                                                  std::to_string(options_.max_body_bytes) + " bytes)");
    response.too_large = true;
    return response;
  }
  if (rc != CURLE_OK) return OriginResponse::failed(OriginResponse::Status::Error, curl_easy_strerror(rc));

  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status == 404 || status == 410)
    return OriginResponse::failed(OriginResponse::Status::NotFound, "origin answered " + std::to_string(status));
  if (status < 200 || status >= 300) {
    return OriginResponse::failed(OriginResponse::Status::Error, "origin answered " + std::to_string(status));
  }
  OriginResponse response = OriginResponse::ok(std::move(sink.body));
  response.cache_control = headers.cache_control();
  response.tags = headers.tags();
  return response;
}

}  // namespace scalecache
