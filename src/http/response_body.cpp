#include "http/response_body.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <initializer_list>
#include <utility>

#include "http/json_string.hpp"

namespace scalecache {
namespace {

// Keys are checked at decoding and origin bodies when they enter the cache,
// so strings here are already UTF-8 and the writer need not validate them.
void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// {"name": "value", ...} in the order given.
std::string string_object(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [name, value] : fields) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    write_string(w, value);
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace

std::string data_body(std::string_view key, std::string_view data, bool cached, std::string_view source) {
  // The hot answer: sized exactly and written once (json_string), no intermediate buffer.
  constexpr std::string_view kOpen = "{\"key\":";
  constexpr std::string_view kData = ",\"data\":";
  constexpr std::string_view kCached = ",\"cached\":";
  constexpr std::string_view kSource = ",\"source\":";
  const std::string_view flag = cached ? "true" : "false";
  std::string out;
  out.reserve(kOpen.size() + json_string_size(key) + kData.size() + json_string_size(data) + kCached.size() +
              flag.size() + kSource.size() + json_string_size(source) + 1);
  out.append(kOpen);
  append_json_string(out, key);
  out.append(kData);
  append_json_string(out, data);
  out.append(kCached);
  out.append(flag);
  out.append(kSource);
  append_json_string(out, source);
  out.push_back('}');
  return out;
}

std::string purge_body(std::string_view what, std::string_view name, std::size_t purged) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key(what.data(), static_cast<rapidjson::SizeType>(what.size()));
  write_string(w, name);
  w.Key("purged");
  w.Uint64(purged);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string accepted_body(std::string_view key, std::string_view location) {
  return string_object({{"key", key}, {"status", "accepted"}, {"location", location}});
}

std::string error_body(std::string_view error, std::string_view detail) {
  return string_object({{"error", error}, {"detail", detail}});
}

}  // namespace scalecache
