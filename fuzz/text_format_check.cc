#include "text_format_check.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace fuzz {
namespace {

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view text, std::size_t* bad_offset) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    std::size_t length = 0;
    unsigned char min_second = 0x80;
    unsigned char max_second = 0xBF;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) min_second = 0xA0;
      if (lead == 0xED) max_second = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) min_second = 0x90;
      if (lead == 0xF4) max_second = 0x8F;
    } else {
      *bad_offset = i;
      return false;
    }
    if (i + length > size || bytes[i + 1] < min_second || bytes[i + 1] > max_second) {
      *bad_offset = i;
      return false;
    }
    for (std::size_t k = 2; k < length; ++k) {
      if (bytes[i + k] < 0x80 || bytes[i + k] > 0xBF) {
        *bad_offset = i;
        return false;
      }
    }
    i += length;
  }
  return true;
}

bool IsNameStart(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool IsNameChar(char c, bool allow_colon) {
  return IsNameStart(c, allow_colon) || (c >= '0' && c <= '9');
}

// Reads a metric name (allow_colon) or label name at `*pos`; empty when there is none.
std::string_view ReadName(std::string_view line, std::size_t* pos, bool allow_colon) {
  const std::size_t start = *pos;
  if (*pos >= line.size() || !IsNameStart(line[*pos], allow_colon)) return {};
  ++*pos;
  while (*pos < line.size() && IsNameChar(line[*pos], allow_colon)) ++*pos;
  return line.substr(start, *pos - start);
}

bool IsValidValue(std::string_view value) {
  if (value == "Nan" || value == "NaN" || value == "+Inf" || value == "-Inf") return true;
  if (value.empty()) return false;
  double number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  return error == std::errc() && end == value.data() + value.size();
}

bool IsValidTimestamp(std::string_view timestamp) {
  std::int64_t number = 0;
  const auto [end, error] =
      std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), number);
  return !timestamp.empty() && error == std::errc() && end == timestamp.data() + timestamp.size();
}

// "# HELP name text" (text escapes only \\ and \n) or "# TYPE name type"; other comments pass.
bool CheckComment(std::string_view line, std::string* problem) {
  const bool help = line.starts_with("# HELP ");
  const bool type = line.starts_with("# TYPE ");
  if (!help && !type) return true;
  std::size_t pos = 7;
  if (ReadName(line, &pos, true).empty()) {
    *problem = "bad metric name in comment";
    return false;
  }
  if (type) {
    const std::string_view rest = line.substr(pos);
    if (rest != " counter" && rest != " gauge" && rest != " histogram" && rest != " summary" &&
        rest != " untyped") {
      *problem = "bad TYPE";
      return false;
    }
    return true;
  }
  if (pos < line.size() && line[pos] != ' ') {
    *problem = "HELP name not followed by a space";
    return false;
  }
  for (std::size_t i = pos; i < line.size(); ++i) {
    if (line[i] != '\\') continue;
    if (i + 1 >= line.size() || (line[i + 1] != '\\' && line[i + 1] != 'n')) {
      *problem = "bad escape in HELP";
      return false;
    }
    ++i;
  }
  return true;
}

// `name[{labels}] value [timestamp]`; adds the series key to `seen`.
bool CheckSample(std::string_view line, std::unordered_set<std::string>* seen,
                 std::string* problem) {
  std::size_t pos = 0;
  const std::string_view name = ReadName(line, &pos, true);
  if (name.empty()) {
    *problem = "bad metric name";
    return false;
  }
  std::vector<std::pair<std::string_view, std::string_view>> labels;
  if (pos < line.size() && line[pos] == '{') {
    ++pos;
    while (true) {
      const std::string_view label = ReadName(line, &pos, false);
      if (label.empty()) {
        *problem = "bad label name";
        return false;
      }
      if (line.substr(pos, 2) != "=\"") {
        *problem = "label name not followed by =\"";
        return false;
      }
      pos += 2;
      const std::size_t value_start = pos;
      while (true) {
        if (pos >= line.size()) {
          *problem = "unterminated label value";
          return false;
        }
        if (line[pos] == '"') break;
        if (line[pos] == '\\') {
          if (pos + 1 >= line.size() ||
              (line[pos + 1] != '\\' && line[pos + 1] != '"' && line[pos + 1] != 'n')) {
            *problem = "bad escape in label value";
            return false;
          }
          ++pos;
        }
        ++pos;
      }
      labels.emplace_back(label, line.substr(value_start, pos - value_start));
      ++pos;  // the closing quote
      if (pos < line.size() && line[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < line.size() && line[pos] == '}') {
        ++pos;
        break;
      }
      *problem = "label value not followed by , or }";
      return false;
    }
  }
  if (pos >= line.size() || line[pos] != ' ') {
    *problem = "no space before the value";
    return false;
  }
  ++pos;
  const std::size_t value_end = std::min(line.find(' ', pos), line.size());
  if (!IsValidValue(line.substr(pos, value_end - pos))) {
    *problem = "bad sample value";
    return false;
  }
  if (value_end < line.size() && !IsValidTimestamp(line.substr(value_end + 1))) {
    *problem = "bad timestamp";
    return false;
  }

  std::sort(labels.begin(), labels.end());
  std::string key(name);
  key += '{';
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0 && labels[i].first == labels[i - 1].first) {
      *problem = "label name repeated";
      return false;
    }
    key.append(labels[i].first).append("=\"").append(labels[i].second).append("\",");
  }
  if (!seen->insert(std::move(key)).second) {
    *problem = "series repeated";
    return false;
  }
  return true;
}

}  // namespace

bool CheckTextFormat(std::string_view text, std::string* problem) {
  std::size_t bad_offset = 0;
  if (!IsValidUtf8(text, &bad_offset)) {
    *problem = "invalid UTF-8 at byte " + std::to_string(bad_offset);
    return false;
  }
  if (!text.empty() && text.back() != '\n') {
    *problem = "text does not end with a newline";
    return false;
  }
  std::unordered_set<std::string> seen;
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    ++line_number;
    const std::size_t end = text.find('\n', start);
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const bool ok = line.empty()          ? (*problem = "empty line", false)
                    : line.front() == '#' ? CheckComment(line, problem)
                                          : CheckSample(line, &seen, problem);
    if (!ok) {
      *problem = "line " + std::to_string(line_number) + ": " + *problem + ": " + std::string(line);
      return false;
    }
  }
  return true;
}

}  // namespace fuzz
