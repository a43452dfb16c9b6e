#include "http/request_router.hpp"

#include <openssl/crypto.h>

#include <string_view>

#include "http/key_decoder.hpp"
#include "http/reply.hpp"
#include "http/response_body.hpp"
#include "util/log.hpp"

namespace scalecache {

namespace Http = Pistache::Http;

namespace {

constexpr std::string_view kDataPrefix = "/data/";

const char* source_name(CacheSource source) {
  switch (source) {
    case CacheSource::L1: return "l1";
    case CacheSource::L2: return "l2";
    case CacheSource::Origin: return "origin";
  }
  return "origin";
}

Route route_of(std::string_view path, Http::Method method) {
  if (path == "/data" || path.starts_with(kDataPrefix)) {
    return method == Http::Method::Delete ? Route::Purge : Route::Data;
  }
  if (path == "/healthz") return Route::Healthz;
  if (path == "/readyz") return Route::Readyz;
  if (path == "/metrics") return Route::Metrics;
  return Route::Other;
}

// Compares in time independent of where the strings differ, so the token
// can't be guessed byte by byte from response times.
bool token_matches(std::string_view presented, std::string_view expected) {
  if (presented.size() != expected.size()) return false;
  return CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

std::string bearer_token(const Http::Request& request) {
  auto auth = request.headers().tryGet<Http::Header::Authorization>();
  if (!auth) return {};
  const std::string value = auth->value();
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size() || value.compare(0, kScheme.size(), kScheme) != 0) return {};
  return value.substr(kScheme.size());
}

void method_not_allowed(Reply& reply, std::string_view allow) {
  reply.header("Allow", std::string(allow));
  reply.error(Http::Code::Method_Not_Allowed, "method_not_allowed", "allowed: " + std::string(allow));
}

// Returns the key, or answers the request with 400/414 and returns nullopt.
std::optional<std::string> key_or_reject(std::string_view path, const RouterContext& ctx, Reply& reply) {
  const std::string_view raw = path.size() > kDataPrefix.size() ? path.substr(kDataPrefix.size()) : std::string_view{};
  DecodedKey decoded = decode_key(raw, ctx.max_key_bytes);
  if (decoded.ok()) return std::move(decoded.key);
  if (decoded.error == DecodedKey::Error::TooLong) {
    reply.error(Http::Code::RequestURI_Too_Long, "key_too_long",
                std::string(describe(decoded.error)) + " (" + std::to_string(ctx.max_key_bytes) + " bytes)");
  } else {
    reply.error(Http::Code::Bad_Request, "invalid_key", describe(decoded.error));
  }
  return std::nullopt;
}

void answer_fetch(Reply& reply, RouterContext& ctx, const std::string& key, const FetchResult& result) {
  switch (result.status) {
    case FetchResult::Status::Ok:
      ctx.metrics.cache_result(result.source);
      reply.json(Http::Code::Ok, data_body(key, result.entry->data, result.source != CacheSource::Origin,
                                           source_name(result.source)));
      return;
    case FetchResult::Status::NotFound:
      reply.error(Http::Code::Not_Found, "not_found", "the origin has no data for this key");
      return;
    case FetchResult::Status::OriginTimeout:
      reply.error(Http::Code::Gateway_Timeout, "origin_timeout", result.detail);
      return;
    case FetchResult::Status::OriginError:
      reply.error(Http::Code::Bad_Gateway, "origin_error", result.detail);
      return;
    case FetchResult::Status::Overloaded:
      reply.header("Retry-After", "1");
      reply.error(Http::Code::Service_Unavailable, "overloaded", result.detail);
      return;
  }
}

void get_data(std::unique_ptr<Reply> reply, const std::string& key, RouterContext& ctx) {
  std::string body;
  const bool hit = ctx.cache.lookup_l1(key, [&](const L1EntryView& entry) {
    body = data_body(entry.key, entry.data, true, "l1");
  });
  if (hit) {
    ctx.metrics.cache_result(CacheSource::L1);
    reply->json(Http::Code::Ok, body);
    return;
  }
  // The answer comes later from a pool thread; std::function needs a copyable capture.
  std::shared_ptr<Reply> pending(std::move(reply));
  ctx.cache.fetch(key, [pending, key, &ctx](const FetchResult& result) {
    answer_fetch(*pending, ctx, key, result);
  });
}

void purge_data(std::unique_ptr<Reply> reply, const std::string& key, RouterContext& ctx) {
  std::shared_ptr<Reply> pending(std::move(reply));
  ctx.cache.purge(key, [pending, key](bool l2_done) {
    if (l2_done) {
      pending->json(Http::Code::Ok, purge_body(key));
    } else {
      pending->error(Http::Code::Service_Unavailable, "redis_unavailable",
                     "removed from this replica's L1 only: Redis could not be reached");
    }
  });
}

}  // namespace

void RequestRouter::onRequest(const Http::Request& request, Http::ResponseWriter response) {
  RouterContext& ctx = *context_;
  const std::string& path = request.resource();
  const Http::Method method = request.method();
  const Route route = route_of(path, method);
  auto reply = std::make_unique<Reply>(std::move(response), request, route, ctx.metrics, ctx.lifecycle);
  try {
    switch (route) {
      case Route::Data:
      case Route::Purge: {
        if (method != Http::Method::Get && method != Http::Method::Delete) {
          method_not_allowed(*reply, "GET, DELETE");
          return;
        }
        if (route == Route::Purge && !ctx.admin_token.empty() && !token_matches(bearer_token(request), ctx.admin_token)) {
          reply->header("WWW-Authenticate", "Bearer");
          reply->error(Http::Code::Unauthorized, "unauthorized", "purging needs Authorization: Bearer <admin token>");
          return;
        }
        auto key = key_or_reject(path, ctx, *reply);
        if (!key) return;
        if (route == Route::Purge) {
          purge_data(std::move(reply), *key, ctx);
        } else {
          get_data(std::move(reply), *key, ctx);
        }
        return;
      }
      case Route::Healthz:
      case Route::Readyz:
      case Route::Metrics:
        if (method != Http::Method::Get) {
          method_not_allowed(*reply, "GET");
          return;
        }
        if (route == Route::Healthz) {
          reply->json(Http::Code::Ok, R"({"status":"ok"})");
        } else if (route == Route::Readyz) {
          if (ctx.lifecycle.ready()) {
            reply->json(Http::Code::Ok, R"({"status":"ready"})");
          } else {
            reply->error(Http::Code::Service_Unavailable, "not_ready",
                         ctx.lifecycle.draining() ? "shutting down" : "starting");
          }
        } else {
          reply->text(Http::Code::Ok, ctx.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
        }
        return;
      case Route::Other:
        reply->error(Http::Code::Not_Found, "no_route", "routes: /data/{key}, /healthz, /readyz, /metrics");
        return;
    }
  } catch (const std::exception& e) {
    // Pistache would turn an escaping exception into a 500 carrying its text.
    log::error("request failed", {{"error", e.what()}});
    if (reply) reply->error(Http::Code::Internal_Server_Error, "internal", "unexpected error");
  }
}

void RequestRouter::onTimeout(const Http::Request& request, Http::ResponseWriter response) {
  Reply reply(std::move(response), request, Route::Other, context_->metrics, context_->lifecycle);
  reply.error(Http::Code::Request_Timeout, "request_timeout", "the request was not received in time");
}

}  // namespace scalecache
