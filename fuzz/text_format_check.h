#pragma once

#include <string>
#include <string_view>

// A strict checker of Prometheus text exposition format 0.0.4 as the exporter writes it
// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
namespace fuzz {

// True when `text` is valid UTF-8, ends each line with '\n', and every line is a comment
// ("# ...") or `name[{label="value",...}] value`, with names [a-zA-Z_:][a-zA-Z0-9_:]*, label
// names [a-zA-Z_][a-zA-Z0-9_]*, label values using only the escapes \\ \" \n, a float value, and
// no series (name + label set) twice. Otherwise false, with the first problem in `*problem`.
bool CheckTextFormat(std::string_view text, std::string* problem);

}  // namespace fuzz
