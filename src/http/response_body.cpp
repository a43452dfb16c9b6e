#include "http/response_body.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <initializer_list>
#include <utility>

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
  rapidjson::StringBuffer buf(nullptr, key.size() + data.size() + 64);
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("key");
  write_string(w, key);
  w.Key("data");
  write_string(w, data);
  w.Key("cached");
  w.Bool(cached);
  w.Key("source");
  write_string(w, source);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
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
