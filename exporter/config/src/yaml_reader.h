#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/config/config.h"

// The YAML adapter shared by the config file and the web config file: walks yaml-cpp's tree,
// turning every problem into a ConfigError "file:line: key: problem".
namespace exporter::config {

// What a YAML node is, for "expected X, got Y" messages.
std::string Describe(const YAML::Node& node);

// A key path segment as written in messages; odd keys are quoted so they cannot break the line.
std::string PathSegment(std::string_view key);

// Reads a whole file for a parser; `what` names it in errors ("config file"). Throws ConfigError.
std::string ReadConfigFile(const std::string& path, std::string_view what);

// YAML 1.1's booleans as gopkg.in/yaml.v2 (which exporter-toolkit reads web configs with)
// resolves them: y Y yes Yes YES true True TRUE on On ON, and n N no No NO false False FALSE off
// Off OFF. The main config takes the same words, so one file format means one thing everywhere.
std::optional<bool> ParseYamlBool(std::string_view text);

class YamlReader {
 public:
  struct Entry {
    YAML::Node key;
    YAML::Node value;
    std::string path;
  };
  struct Field {
    std::string_view key;
    std::function<void(const Entry&)> read;
  };

  explicit YamlReader(std::string source) : source_(std::move(source)) {}

  // Parses `yaml_text`, which must hold at most one document, and hands its root to `read`
  // unless the document is empty. YAML syntax errors (and yaml-cpp's own limits, such as the
  // nesting depth) are reported at their line and column.
  void ReadDocument(const std::string& yaml_text,
                    const std::function<void(const YAML::Node& root)>& read) const;

  // `line` is yaml-cpp's 0-based line, negative when unknown.
  [[noreturn]] void Fail(int line, std::string_view path, std::string_view problem) const {
    std::string message = source_;
    if (line >= 0) message += ":" + std::to_string(line + 1);
    message += ": ";
    if (!path.empty()) {
      message += path;
      message += ": ";
    }
    message += problem;
    throw ConfigError(message);
  }

  // A value's own line, except for an empty value: yaml-cpp marks that where the next token
  // starts, often the following line, so the key's line is the one to report.
  static int LineOf(const Entry& entry) {
    if (entry.value.IsNull() || entry.value.Mark().line < 0) return entry.key.Mark().line;
    return entry.value.Mark().line;
  }

  // Runs `read` and reports a bare ConfigError it throws (a value rule) at the entry.
  template <typename Read>
  auto At(const Entry& entry, Read&& read) const {
    try {
      return read();
    } catch (const ConfigError& error) {
      Fail(LineOf(entry), entry.path, error.what());
    }
  }

  // Reads a map whose keys are all in `fields`, rejecting unknown and duplicate keys (yaml-cpp
  // 0.7 keeps every pair of a map with a repeated key, in document order, and lets node[key]
  // see only the first). An empty value ("proxy:" alone) keeps every default.
  void ReadMap(const YAML::Node& map, int line, const std::string& path,
               std::initializer_list<Field> fields) const {
    if (map.IsNull()) return;
    if (!map.IsMap()) Fail(line, path, "expected a map, got " + Describe(map));
    std::vector<std::pair<std::string, int>> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies: the iterator's operator-> returns a proxy that dies with the statement.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      const int key_line = key.Mark().line;
      if (!key.IsScalar()) Fail(key_line, path, "expected a plain key, got " + Describe(key));
      const std::string& name = key.Scalar();
      const std::string key_path =
          path.empty() ? PathSegment(name) : path + "." + PathSegment(name);
      for (const auto& [seen_name, seen_line] : seen) {
        if (seen_name == name) {
          Fail(key_line, key_path,
               "duplicate key (first defined at line " + std::to_string(seen_line + 1) + ")");
        }
      }
      seen.emplace_back(name, key_line);
      const Field* field = nullptr;
      for (const Field& candidate : fields) {
        if (candidate.key == name) field = &candidate;
      }
      if (field == nullptr) {
        std::string known;
        for (const Field& candidate : fields) {
          known += known.empty() ? "" : ", ";
          known += candidate.key;
        }
        Fail(key_line, key_path, "unknown key (known keys: " + known + ")");
      }
      field->read(Entry{key, value, key_path});
    }
  }

  void ReadSection(const Entry& entry, std::initializer_list<Field> fields) const {
    ReadMap(entry.value, LineOf(entry), entry.path, fields);
  }

  const std::string& Scalar(const Entry& entry, std::string_view expected) const {
    if (!entry.value.IsScalar()) {
      Fail(LineOf(entry), entry.path,
           "expected " + std::string(expected) + ", got " + Describe(entry.value));
    }
    return entry.value.Scalar();
  }

  std::string String(const Entry& entry) const { return Scalar(entry, "a string"); }

  unsigned Unsigned(const Entry& entry, unsigned min, unsigned max) const {
    const std::string& text = Scalar(entry, "an integer");
    // A quoted "20" is a string in YAML; a config that quotes numbers is likely wrong elsewhere
    // too.
    const std::string& tag = entry.value.Tag();
    if (tag != "?" && tag != "tag:yaml.org,2002:int") {
      Fail(LineOf(entry), entry.path,
           "expected an integer, got the string " + QuoteForMessage(text));
    }
    return At(entry, [&] { return ParseUnsignedValue(text, min, max); });
  }

  // The one boolean grammar of both YAML files (ParseYamlBool); a quoted value is a string.
  bool Bool(const Entry& entry) const {
    const std::string& text = Scalar(entry, "true or false");
    const std::optional<bool> value = ParseYamlBool(text);
    const std::string& tag = entry.value.Tag();
    if (!value || (tag != "?" && tag != "tag:yaml.org,2002:bool")) {
      Fail(LineOf(entry), entry.path,
           std::string(value ? "expected true or false, got the string "
                             : "expected true or false, got ") +
               QuoteForMessage(text));
    }
    return *value;
  }

  std::chrono::milliseconds Timeout(const Entry& entry) const {
    const std::string& text = Scalar(entry, "a duration");
    return At(entry, [&] { return ParseTimeoutValue(text); });
  }

  std::size_t ByteSize(const Entry& entry) const {
    const std::string& text = Scalar(entry, "a size");
    return At(entry, [&] { return ParseByteSizeValue(text); });
  }

  template <typename Enum>
  Enum Choice(const Entry& entry, std::optional<Enum> (*parse)(std::string_view),
              std::string_view choices) const {
    const std::string& text = Scalar(entry, "one of " + std::string(choices));
    const std::optional<Enum> value = parse(text);
    if (!value) {
      Fail(LineOf(entry), entry.path,
           "must be one of " + std::string(choices) + ", got " + QuoteForMessage(text));
    }
    return *value;
  }

  template <typename Check>
  std::string CheckedString(const Entry& entry, Check check) const {
    std::string text = String(entry);
    At(entry, [&] { check(text); });
    return text;
  }

 private:
  std::string source_;
};

}  // namespace exporter::config
