#pragma once
// A Job as the field/value pairs of a Redis Stream entry, and back. Field
// names are short and fixed; an entry missing one, or with a number that does
// not parse, is not a job (a worker dead-letters it instead of guessing).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "queue/job.hpp"

namespace scalecache {

using StreamFields = std::vector<std::pair<std::string, std::string>>;

StreamFields encode_job(const Job& job);
std::optional<Job> decode_job(const StreamFields& fields);

}  // namespace scalecache
