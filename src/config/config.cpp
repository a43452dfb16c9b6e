#include "config/config.hpp"

#include <curl/curl.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "config/config_schema.hpp"
#include "redis/redis_url.hpp"

namespace scalecache {
namespace {

// Where each value came from, so an error can point at it.
using Origins = std::map<std::string, std::string>;

std::string mark_text(const std::string& file, const YAML::Mark& mark) {
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ConfigError("config error: " + where + ": " + what);
}

std::string quoted_value(const ConfigKey& key, const std::string& raw) {
  return key.secret ? std::string("a value") : "\"" + raw + "\"";
}

std::string range_text(const ConfigKey& key) {
  if (key.type == ConfigKey::Type::Integer) {
    return std::to_string(static_cast<int64_t>(key.min)) + " to " + std::to_string(static_cast<int64_t>(key.max));
  }
  std::ostringstream out;
  out << key.min << " to " << key.max;
  return out.str();
}

void assign(const ConfigKey& key, const std::string& raw, Config& config, const std::string& where) {
  const char* end = raw.data() + raw.size();
  switch (key.type) {
    case ConfigKey::Type::Integer: {
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(raw.data(), end, value);
      if (raw.empty() || ec != std::errc() || ptr != end || value < key.min || value > key.max) {
        fail(where, key.dotted() + ": expected an integer from " + range_text(key) + ", got " + quoted_value(key, raw));
      }
      key.integer(config) = value;
      return;
    }
    case ConfigKey::Type::Number: {
      double value = 0;
      auto [ptr, ec] = std::from_chars(raw.data(), end, value);
      if (raw.empty() || ec != std::errc() || ptr != end || !(value >= key.min && value <= key.max)) {
        fail(where, key.dotted() + ": expected a number from " + range_text(key) + ", got " + quoted_value(key, raw));
      }
      key.number(config) = value;
      return;
    }
    case ConfigKey::Type::Boolean:
      if (raw != "true" && raw != "false") {
        fail(where, key.dotted() + ": expected true or false, got " + quoted_value(key, raw));
      }
      key.boolean(config) = raw == "true";
      return;
    case ConfigKey::Type::String: break;
  }
  if (!key.choices.empty() && std::find(key.choices.begin(), key.choices.end(), raw) == key.choices.end()) {
    std::string allowed;
    for (const auto& c : key.choices) allowed += (allowed.empty() ? "" : ", ") + c;
    fail(where, key.dotted() + ": expected one of " + allowed + ", got " + quoted_value(key, raw));
  }
  key.string(config) = raw;
}

const ConfigKey* find_key(const std::string& section, const std::string& name) {
  for (const auto& key : config_keys()) {
    if (key.section == section && key.name == name) return &key;
  }
  return nullptr;
}

bool is_section(const std::string& section) {
  return std::any_of(config_keys().begin(), config_keys().end(),
                     [&](const ConfigKey& k) { return k.section == section; });
}

std::string keys_of(const std::string& section) {
  std::string out;
  for (const auto& k : config_keys()) {
    if (k.section == section) out += (out.empty() ? "" : ", ") + k.name;
  }
  return out;
}

// Has the section a key nested under `group` (redis.sentinel.nodes under "sentinel")?
bool is_group(const std::string& section, const std::string& group) {
  return std::any_of(config_keys().begin(), config_keys().end(),
                     [&](const ConfigKey& k) { return k.section == section && k.name.starts_with(group + "."); });
}

// The keys of one section's mapping; `group` is "" or the nested mapping's dotted name plus ".".
void apply_entries(const std::string& path, const std::string& section_str, const std::string& group,
                   const YAML::Node& mapping, Config& config, Origins& origins) {
  for (const auto& entry : mapping) {
    const std::string name = group + entry.first.Scalar();
    const ConfigKey* key = find_key(section_str, name);
    const std::string where = mark_text(path, entry.first.Mark());
    const YAML::Node& value = entry.second;
    if (key == nullptr && value.IsMap() && is_group(section_str, name)) {
      apply_entries(path, section_str, name + ".", value, config, origins);
      continue;
    }
    if (key == nullptr) {
      fail(where, "unknown key " + section_str + "." + name + " (known: " + keys_of(section_str) + ")");
    }
    const std::string value_where = mark_text(path, value.Mark());
    if (value.IsNull()) {
      if (key->type != ConfigKey::Type::String) fail(value_where, key->dotted() + ": expected a value, got nothing");
      key->string(config).clear();
    } else if (!value.IsScalar()) {
      fail(value_where, key->dotted() + ": expected a single value, got a list or mapping");
    } else {
      assign(*key, value.Scalar(), config, value_where);
    }
    origins[key->dotted()] = value_where;
  }
}

void apply_file(const std::string& path, Config& config, Origins& origins) {
  YAML::Node root;
  {
    std::ifstream probe(path);
    if (!probe) fail(path, std::string("cannot read file: ") + std::strerror(errno));
  }
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    fail(mark_text(path, e.mark), "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    fail(path, std::string("cannot read file: ") + e.what());
  }
  if (root.IsNull()) return;  // an empty file means all defaults
  if (!root.IsMap()) fail(mark_text(path, root.Mark()), "expected a mapping of sections");

  for (const auto& section_entry : root) {
    const YAML::Node& section_name = section_entry.first;
    const YAML::Node& section = section_entry.second;
    const std::string section_str = section_name.Scalar();
    if (!is_section(section_str)) {
      fail(mark_text(path, section_name.Mark()),
           "unknown section \"" + section_str +
               "\" (expected server, cache, redis, origin, queue, worker, admin, shutdown or log)");
    }
    if (section.IsNull()) continue;
    if (!section.IsMap()) fail(mark_text(path, section.Mark()), section_str + ": expected a mapping");
    apply_entries(path, section_str, "", section, config, origins);
  }
}

void apply_environment(char** env, Config& config, Origins& origins) {
  if (env == nullptr) return;
  for (char** entry = env; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!text.starts_with("SCALECACHE_")) continue;
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name(text.substr(0, eq));
    const std::string value(text.substr(eq + 1));
    const ConfigKey* match = nullptr;
    for (const auto& key : config_keys()) {
      if (key.env_name() == name) match = &key;
    }
    const std::string where = "environment " + name;
    if (match == nullptr) {
      // Kubernetes injects SCALECACHE_PORT, SCALECACHE_SERVICE_HOST, ... for a
      // Service of that name: only names inside a known section are typos.
      for (const auto& key : config_keys()) {
        std::string prefix = key.env_name().substr(0, key.env_name().size() - key.name.size());
        if (name.starts_with(prefix)) fail(where, "unknown configuration key " + name);
      }
      continue;
    }
    assign(*match, value, config, where);
    origins[match->dotted()] = where;
  }
}

std::string read_secret_file(const std::string& path, const std::string& key, const Origins& origins) {
  std::ifstream in(path);
  if (!in) {
    const auto it = origins.find(key);
    fail(it == origins.end() ? std::string("defaults") : it->second,
         key + ": cannot read \"" + path + "\": " + std::strerror(errno));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string value = buf.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

std::string where_of(const Origins& origins, const std::string& key) {
  const auto it = origins.find(key);
  return it == origins.end() ? std::string("defaults") : it->second;
}

void validate_http_url(const std::string& url, const std::string& key, const Origins& origins) {
  CURLU* handle = curl_url();
  const CURLUcode rc = curl_url_set(handle, CURLUPART_URL, url.c_str(), 0);
  char* scheme = nullptr;
  const bool has_scheme = rc == CURLUE_OK && curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK;
  const std::string scheme_str = scheme != nullptr ? scheme : "";
  curl_free(scheme);
  curl_url_cleanup(handle);
  if (!has_scheme || (scheme_str != "http" && scheme_str != "https")) {
    fail(where_of(origins, key), key + ": expected an http:// or https:// URL, got \"" + url + "\"");
  }
}

// The worker tier's settings, checked whether or not this process is a
// worker: serving replicas and workers usually share one file.
void validate_queue(const Config& config, const Origins& origins) {
  if (config.origin.kind == "queue") {
    // The job stream and its scripts talk to one Redis: routing them over a
    // cluster or following a sentinel is not built yet (docs/worker-tier.md).
    if (config.redis.mode != "standalone") {
      fail(where_of(origins, "origin.kind"), "origin.kind is queue but redis.mode is " + config.redis.mode +
                                                 ": the worker tier needs redis.mode standalone");
    }
    if (config.redis.url.empty()) {
      fail(where_of(origins, "origin.kind"), "origin.kind is queue but redis.url is empty: the queue lives in Redis");
    }
    if (config.queue.wait_ms > config.server.header_timeout_ms) {
      fail(where_of(origins, "queue.wait_ms"), "queue.wait_ms (" + std::to_string(config.queue.wait_ms) +
                                                   " ms) must not exceed server.header_timeout_ms (" +
                                                   std::to_string(config.server.header_timeout_ms) + " ms)");
    }
  }
  // A job's lease must outlive a dead worker's silence, or waiters give up
  // on the job (and enqueue another) before anyone could take it over. Only
  // checked where the tier is in use: a worker checks it again at start.
  if (config.origin.kind == "queue" && config.worker.claim_idle_ms >= config.cache.lease_ttl_ms) {
    fail(where_of(origins, "worker.claim_idle_ms"),
         "worker.claim_idle_ms (" + std::to_string(config.worker.claim_idle_ms) +
             " ms) must be below cache.lease_ttl_ms (" + std::to_string(config.cache.lease_ttl_ms) + " ms)");
  }
  if (config.worker.backoff_ms > config.worker.backoff_max_ms) {
    fail(where_of(origins, "worker.backoff_ms"), "worker.backoff_ms: must not exceed worker.backoff_max_ms (" +
                                                     std::to_string(config.worker.backoff_max_ms) + ")");
  }
  if (config.worker.origin_kind == "http") {
    if (config.origin.url.empty()) {
      fail(where_of(origins, "worker.origin_kind"), "worker.origin_kind is http but origin.url is empty");
    }
    validate_http_url(config.origin.url, "origin.url", origins);
  }
}

// redis.mode decides which of url, nodes and sentinel.* must be set; a key
// that belongs to another mode is an error rather than silently ignored.
void validate_redis_topology(const RedisConfig& redis, const Origins& origins) {
  const auto parse_url = [&] {
    try {
      (void)parse_redis_url(redis.url);
    } catch (const std::invalid_argument& e) {
      fail(where_of(origins, "redis.url"), std::string("redis.url: ") + e.what());
    }
  };
  const auto parse_nodes = [&](const std::string& list, const std::string& key) {
    try {
      (void)parse_redis_nodes(list);
    } catch (const std::invalid_argument& e) {
      fail(where_of(origins, key), key + ": " + e.what());
    }
  };
  const auto must_be_empty = [&](const std::string& value, const std::string& key) {
    if (!value.empty()) fail(where_of(origins, key), key + " is set but redis.mode is " + redis.mode);
  };
  const auto must_be_set = [&](const std::string& value, const std::string& key) {
    if (value.empty())
      fail(where_of(origins, "redis.mode"), "redis.mode is " + redis.mode + " but " + key + " is empty");
  };
  if (redis.mode != "cluster") must_be_empty(redis.nodes, "redis.nodes");
  if (redis.mode != "sentinel") {
    must_be_empty(redis.sentinel.master_name, "redis.sentinel.master_name");
    must_be_empty(redis.sentinel.nodes, "redis.sentinel.nodes");
    must_be_empty(redis.sentinel.password, "redis.sentinel.password");
    must_be_empty(redis.sentinel.password_file, "redis.sentinel.password_file");
  }
  if (redis.mode == "standalone") {
    if (!redis.url.empty()) parse_url();
    return;
  }
  // The address comes from the seeds or the sentinels; a URL would be a second, conflicting answer.
  must_be_empty(redis.url, "redis.url");
  if (redis.mode == "cluster") {
    must_be_set(redis.nodes, "redis.nodes");
    parse_nodes(redis.nodes, "redis.nodes");
    // A brace in the prefix would become every key's hash tag: the whole cache in one slot.
    if (redis.key_prefix.find_first_of("{}") != std::string::npos) {
      fail(where_of(origins, "redis.key_prefix"),
           "redis.key_prefix: must not contain { or } in cluster mode (it would put every key in one slot)");
    }
    return;
  }
  must_be_set(redis.sentinel.master_name, "redis.sentinel.master_name");
  must_be_set(redis.sentinel.nodes, "redis.sentinel.nodes");
  parse_nodes(redis.sentinel.nodes, "redis.sentinel.nodes");
}

// TLS files are checked here so a typo is a config error with its line; their
// contents are checked when the TLS context is made (install_redis_tls).
void validate_redis_tls(const RedisTlsConfig& tls, const Origins& origins) {
  const std::pair<const std::string&, const char*> files[] = {
      {tls.ca_file, "redis.tls.ca_file"}, {tls.cert_file, "redis.tls.cert_file"}, {tls.key_file, "redis.tls.key_file"}};
  if (!tls.enabled) {
    for (const auto& [value, key] : files) {
      if (!value.empty()) fail(where_of(origins, key), std::string(key) + " is set but redis.tls.enabled is false");
    }
    if (!tls.server_name.empty()) {
      fail(where_of(origins, "redis.tls.server_name"), "redis.tls.server_name is set but redis.tls.enabled is false");
    }
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    const char* set = tls.cert_file.empty() ? "redis.tls.key_file" : "redis.tls.cert_file";
    fail(where_of(origins, set), std::string(set) + " needs the other of redis.tls.cert_file and redis.tls.key_file");
  }
  for (const auto& [value, key] : files) {
    if (!value.empty() && std::ifstream(value).fail()) {
      fail(where_of(origins, key), std::string(key) + ": cannot read \"" + value + "\": " + std::strerror(errno));
    }
  }
}

void validate(Config& config, const Origins& origins) {
  const auto shards = config.cache.l1_shards;
  if ((shards & (shards - 1)) != 0) {
    fail(where_of(origins, "cache.l1_shards"),
         "cache.l1_shards: expected a power of two, got " + std::to_string(shards));
  }
  if (config.redis.backoff_min_ms > config.redis.backoff_max_ms) {
    fail(where_of(origins, "redis.backoff_min_ms"), "redis.backoff_min_ms: must not exceed redis.backoff_max_ms (" +
                                                        std::to_string(config.redis.backoff_max_ms) + ")");
  }
  validate_redis_topology(config.redis, origins);
  validate_redis_tls(config.redis.tls, origins);
  // The worst miss waits out a lease, then calls the origin: it must fit in
  // the time the server gives a request, or the client gets a bare 408.
  const int64_t worst_miss_ms = config.cache.lease_wait_ms + config.origin.timeout_ms;
  if (worst_miss_ms > config.server.header_timeout_ms) {
    fail(where_of(origins, "origin.timeout_ms"),
         "cache.lease_wait_ms + origin.timeout_ms (" + std::to_string(worst_miss_ms) +
             " ms) must not exceed server.header_timeout_ms (" + std::to_string(config.server.header_timeout_ms) +
             " ms): a miss could outlast its request");
  }
  validate_queue(config, origins);
  if (config.origin.max_body_bytes == 0) config.origin.max_body_bytes = config.cache.max_object_bytes;
  if (config.origin.kind == "http") {
    if (config.origin.url.empty()) {
      fail(where_of(origins, "origin.kind"), "origin.kind is http but origin.url is empty");
    }
    validate_http_url(config.origin.url, "origin.url", origins);
  }
  if (!config.redis.password_file.empty()) {
    config.redis.password = read_secret_file(config.redis.password_file, "redis.password_file", origins);
  }
  if (!config.redis.sentinel.password_file.empty()) {
    config.redis.sentinel.password =
        read_secret_file(config.redis.sentinel.password_file, "redis.sentinel.password_file", origins);
  }
  if (!config.admin.token_file.empty()) {
    config.admin.token = read_secret_file(config.admin.token_file, "admin.token_file", origins);
  }
}

// CPU quota from cgroup v2 (cpu.max: "<quota> <period>" or "max <period>").
int cgroup_cpu_quota(const std::string& cpu_max_path) {
  std::ifstream in(cpu_max_path);
  std::string quota;
  long period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0;
  long q = 0;
  auto [ptr, ec] = std::from_chars(quota.data(), quota.data() + quota.size(), q);
  if (ec != std::errc() || q <= 0) return 0;
  return static_cast<int>((q + period - 1) / period);
}

}  // namespace

Config load_config(const std::string& path, char** env) {
  Config config;
  Origins origins;
  if (!path.empty()) apply_file(path, config, origins);
  apply_environment(env, config, origins);
  validate(config, origins);
  return config;
}

std::string describe_config_keys() {
  Config defaults;
  std::ostringstream out;
  std::string section;
  for (const auto& key : config_keys()) {
    if (key.section != section) {
      section = key.section;
      out << "\n  " << section << ":\n";
    }
    std::ostringstream value;
    switch (key.type) {
      case ConfigKey::Type::Integer: value << key.integer(defaults); break;
      case ConfigKey::Type::Number: value << key.number(defaults); break;
      case ConfigKey::Type::Boolean: value << (key.boolean(defaults) ? "true" : "false"); break;
      case ConfigKey::Type::String: value << '"' << key.string(defaults) << '"'; break;
    }
    out << "    " << key.name << " = " << value.str() << "  (" << key.env_name() << ")\n"
        << "        " << key.help << "\n";
  }
  return out.str();
}

int effective_threads(const Config& config) { return effective_threads(config, "/sys/fs/cgroup/cpu.max"); }

int effective_threads(const Config& config, const std::string& cpu_max_path) {
  if (config.server.threads > 0) return static_cast<int>(config.server.threads);
  if (int quota = cgroup_cpu_quota(cpu_max_path); quota > 0) return quota;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace scalecache
