#include "http/request_router.hpp"

#include <atomic>
#include <chrono>
#include <string_view>

#include "http/cache_headers.hpp"
#include "http/key_decoder.hpp"
#include "http/ops_routes.hpp"
#include "http/prefer.hpp"
#include "http/reply.hpp"
#include "http/response_body.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace scalecache {

namespace Http = Pistache::Http;

namespace {

const char* source_name(CacheSource source) {
  switch (source) {
    case CacheSource::L1: return "l1";
    case CacheSource::L2: return "l2";
    case CacheSource::Origin: return "origin";
    case CacheSource::Stale: return "stale";
    case CacheSource::Negative: return "negative";
  }
  return "origin";
}

std::string bearer_token(const Http::Request& request) {
  auto auth = request.headers().tryGet<Http::Header::Authorization>();
  if (!auth) return {};
  const std::string value = auth->value();
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size() || value.compare(0, kScheme.size(), kScheme) != 0) return {};
  return value.substr(kScheme.size());
}

// Answers 401 (token configured, not presented) or 403 (purging disabled)
// and returns false, or returns true.
bool purge_allowed(const PurgeAccess& access, const Http::Request& request, Reply& reply) {
  switch (access.check(bearer_token(request))) {
    case PurgeAccess::Verdict::Allowed: return true;
    case PurgeAccess::Verdict::Unauthorized:
      reply.header("WWW-Authenticate", "Bearer");
      reply.error(Http::Code::Unauthorized, "unauthorized", "purging needs Authorization: Bearer <admin token>");
      return false;
    case PurgeAccess::Verdict::Disabled:
      reply.error(Http::Code::Forbidden, "purge_disabled", "purging is disabled: this server has no admin.token");
      return false;
  }
  return false;
}

void method_not_allowed(Reply& reply, std::string_view allow) {
  reply.header("Allow", std::string(allow));
  reply.error(Http::Code::Method_Not_Allowed, "method_not_allowed", "allowed: " + std::string(allow));
}

// Returns the key, or answers the request with 400/414 and returns nullopt.
std::optional<std::string> key_or_reject(std::string_view path, std::string_view prefix, const RouterContext& ctx,
                                         Reply& reply) {
  const std::string_view raw = path.size() > prefix.size() ? path.substr(prefix.size()) : std::string_view{};
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

// A /data answer ready to send: rendered while L1's shard is locked, sent after.
struct Prepared {
  Http::Code code = Http::Code::Ok;
  std::string body;
  CacheHeaders headers;
  bool not_modified = false;
};

Prepared prepare(std::string_view key, std::string_view data, const EntryMeta& meta, const CacheOutcome& outcome,
                 const std::optional<std::string>& if_none_match_header) {
  Prepared p;
  p.headers = cache_headers(meta, outcome, wall_clock_ms());
  if (meta.negative) {
    p.code = Http::Code::Not_Found;
    p.body = error_body("not_found", "the origin has no data for this key (cached)");
    return p;
  }
  if (if_none_match_header && if_none_match(*if_none_match_header, p.headers.etag)) {
    p.code = Http::Code::Not_Modified;
    p.not_modified = true;
    return p;
  }
  p.body = data_body(key, data, outcome.source != CacheSource::Origin, source_name(outcome.source));
  return p;
}

void send_prepared(Reply& reply, Prepared& p) {
  reply.header("ETag", std::move(p.headers.etag));
  reply.header("Age", std::move(p.headers.age));
  reply.header("Cache-Control", std::move(p.headers.cache_control));
  reply.header("Cache-Status", std::move(p.headers.cache_status));
  if (p.not_modified) {
    reply.empty(p.code);
  } else {
    reply.json(p.code, p.body);
  }
}

void count_answer(Metrics& metrics, CacheSource source, const std::optional<StaleReason>& stale) {
  metrics.cache_result(source);
  if (stale) metrics.stale_served(*stale);
}

void answer_fetch(Reply& reply, RouterContext& ctx, const std::string& key, const Answer& answer,
                  const std::optional<std::string>& inm) {
  switch (answer.kind) {
    case Answer::Kind::Data:
    case Answer::Kind::NotFound:
      if (answer.entry) {
        count_answer(ctx.metrics, answer.source, answer.stale);
        Prepared p = prepare(key, answer.entry->data, answer.entry->meta,
                             {answer.source, answer.stale, answer.collapsed, answer.stored}, inm);
        send_prepared(reply, p);
      } else {
        reply.error(Http::Code::Not_Found, "not_found", "the origin has no data for this key");
      }
      return;
    case Answer::Kind::OriginTimeout: reply.error(Http::Code::Gateway_Timeout, "origin_timeout", answer.detail); return;
    case Answer::Kind::OriginError: reply.error(Http::Code::Bad_Gateway, "origin_error", answer.detail); return;
    case Answer::Kind::OriginTooLarge: reply.error(Http::Code::Bad_Gateway, "origin_too_large", answer.detail); return;
    case Answer::Kind::Overloaded:
      reply.header("Retry-After", std::to_string(ctx.retry_after_seconds));
      reply.error(Http::Code::Service_Unavailable, "overloaded", answer.detail);
      return;
  }
}

std::optional<std::string> if_none_match_of(const Http::Request& request) {
  auto raw = request.headers().tryGetRaw("If-None-Match");
  if (!raw) return std::nullopt;
  return raw->value();
}

// 202: the answer is being computed; GET `location` again after Retry-After.
void answer_accepted(Reply& reply, const RouterContext& ctx, const std::string& key, const std::string& location,
                     const Preferences& prefs) {
  reply.header("Location", location);
  reply.header("Retry-After", std::to_string(ctx.retry_after_seconds));
  reply.header("Preference-Applied", prefs.applied());
  reply.json(Http::Code::Accepted, accepted_body(key, location));
}

// A miss whose client states preferences: the answer if it comes within the
// bound, else 202 while the fetch runs on and fills the cache; whichever
// comes first answers. wait=N bounds it to N seconds; respond-async alone to
// kAtHandMs, so what is at hand (an L2 hit, a full queue's 503) is still
// answered as it is, and only work that takes time becomes a 202.
void fetch_preferring(const std::shared_ptr<Reply>& reply, const std::string& key,
                      const std::optional<std::string>& inm, const std::string& location, const Preferences& prefs,
                      RouterContext& ctx) {
  constexpr std::chrono::milliseconds kAtHandMs{50};
  const std::chrono::milliseconds bound =
      prefs.wait_seconds ? std::chrono::milliseconds(std::chrono::seconds(*prefs.wait_seconds)) : kAtHandMs;
  auto answered = std::make_shared<std::atomic<bool>>(false);
  ctx.cache.fetch(key, [reply, answered, key, inm, &ctx](const Answer& answer) {
    if (!answered->exchange(true)) answer_fetch(*reply, ctx, key, answer, inm);
  });
  ctx.timer.at(Timer::Clock::now() + bound, [reply, answered, key, location, prefs, &ctx] {
    if (!answered->exchange(true)) answer_accepted(*reply, ctx, key, location, prefs);
  });
}

// The request's Prefer header, looked at only on a miss: an answer at hand is
// sent as it is whatever the client prefers, and hits pay nothing for it.
Preferences preferences_of(const Http::Request& request) {
  const auto prefer = request.headers().tryGetRaw("Prefer");
  return parse_prefer(prefer ? std::optional<std::string_view>(prefer->value()) : std::nullopt);
}

void get_data(std::unique_ptr<Reply> reply, const std::string& key, const Http::Request& request, RouterContext& ctx) {
  const std::optional<std::string> inm = if_none_match_of(request);
  Prepared prepared;
  CacheSource source = CacheSource::L1;
  std::optional<StaleReason> stale;
  const bool hit = ctx.cache.answer_from_l1(key, [&](const L1EntryView& entry, std::optional<StaleReason> why) {
    source = entry.meta.negative ? CacheSource::Negative : why ? CacheSource::Stale : CacheSource::L1;
    stale = why;
    prepared = prepare(entry.key, entry.data, entry.meta, {source, why, false, false}, inm);
  });
  if (hit) {
    count_answer(ctx.metrics, source, stale);
    send_prepared(*reply, prepared);
    return;
  }
  const Preferences prefs = preferences_of(request);
  if (!prefs.error.empty()) {
    reply->error(Http::Code::Bad_Request, "invalid_prefer", prefs.error);
    return;
  }
  // The answer comes later from a pool thread; std::function needs a copyable capture.
  std::shared_ptr<Reply> pending(std::move(reply));
  if (prefs.respond_async || prefs.wait_seconds) {
    fetch_preferring(pending, key, inm, request.resource(), prefs, ctx);
    return;
  }
  ctx.cache.fetch(key,
                  [pending, key, inm, &ctx](const Answer& answer) { answer_fetch(*pending, ctx, key, answer, inm); });
}

void purge_data(std::unique_ptr<Reply> reply, const std::string& key, bool soft, RouterContext& ctx) {
  std::shared_ptr<Reply> pending(std::move(reply));
  ctx.cache.invalidation().purge(key, soft, [pending, key](bool l2_done) {
    if (l2_done) {
      pending->json(Http::Code::Ok, purge_body("key", key, 1));
    } else {
      pending->error(Http::Code::Service_Unavailable, "redis_unavailable",
                     "removed from this replica's L1 only: Redis could not be reached");
    }
  });
}

void purge_tag(std::unique_ptr<Reply> reply, const std::string& tag, bool soft, RouterContext& ctx) {
  std::shared_ptr<Reply> pending(std::move(reply));
  ctx.cache.invalidation().purge_tag(tag, soft, [pending, tag](bool ok, std::size_t purged) {
    if (ok) {
      pending->json(Http::Code::Ok, purge_body("tag", tag, purged));
    } else if (purged > 0) {
      pending->error(Http::Code::Service_Unavailable, "purge_incomplete",
                     std::to_string(purged) + " tagged keys purged, then Redis failed: others may remain; retry");
    } else {
      pending->error(Http::Code::Service_Unavailable, "redis_unavailable",
                     "tags live in Redis, which could not be reached");
    }
  });
}

bool soft_requested(const Http::Request& request) {
  const auto soft = request.query().get("soft");
  return soft && (*soft == "1" || *soft == "true");
}

}  // namespace

void RequestRouter::on_request(const Http::Request& request, ReplyChannel channel) {
  RouterContext& ctx = *context_;
  const std::string& path = request.resource();
  // RFC 9110 §9.3.2: HEAD is GET without the body (Reply drops it).
  const Http::Method method = request.method() == Http::Method::Head ? Http::Method::Get : request.method();
  const Route route = route_of(path, method);
  auto reply = std::make_unique<Reply>(std::move(channel), request, route, ctx.metrics, ctx.lifecycle);
  try {
    switch (route) {
      case Route::Data:
      case Route::Purge: {
        const bool tags = path.starts_with(kTagsPrefix);
        if (method != Http::Method::Get && method != Http::Method::Delete) {
          method_not_allowed(*reply, tags ? "DELETE" : "GET, HEAD, DELETE");
          return;
        }
        if (tags && method != Http::Method::Delete) {
          method_not_allowed(*reply, "DELETE");
          return;
        }
        if (route == Route::Purge && !purge_allowed(ctx.purge_access, request, *reply)) return;
        auto name = key_or_reject(path, tags ? kTagsPrefix : kDataPrefix, ctx, *reply);
        if (!name) return;
        if (tags) {
          purge_tag(std::move(reply), *name, soft_requested(request), ctx);
        } else if (route == Route::Purge) {
          purge_data(std::move(reply), *name, soft_requested(request), ctx);
        } else {
          get_data(std::move(reply), *name, request, ctx);
        }
        return;
      }
      case Route::Healthz:
      case Route::Readyz:
      case Route::Metrics: answer_ops_route(route, method, *reply, ctx.lifecycle, ctx.metrics); return;
      case Route::Other:
        reply->error(Http::Code::Not_Found, "no_route",
                     "routes: /data/{key}, /tags/{tag}, /healthz, /readyz, /metrics");
        return;
    }
  } catch (const std::exception& e) {
    // Pistache would turn an escaping exception into a 500 carrying its text.
    log::error("request failed", {{"error", e.what()}});
    if (reply) reply->error(Http::Code::Internal_Server_Error, "internal", "unexpected error");
  }
}

void RequestRouter::on_refused(ReplyChannel channel, int status, std::string_view error, std::string_view detail) {
  Reply reply(std::move(channel), context_->metrics, context_->lifecycle);
  reply.error(static_cast<Http::Code>(status), error, detail);
}

}  // namespace scalecache
