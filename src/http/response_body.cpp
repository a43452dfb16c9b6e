#include "http/response_body.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace scalecache {
namespace {

// Keys are checked at decoding and origin bodies when they enter the cache,
// so strings here are already UTF-8 and the writer need not validate them.
void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
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

std::string error_body(std::string_view error, std::string_view detail) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  write_string(w, error);
  w.Key("detail");
  write_string(w, detail);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace scalecache
