#include "yaml_reader.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

namespace exporter::config {
namespace {

bool IsPlainKeyCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Counts YAML documents, stopping at the second. YAML::LoadAll (yaml-cpp 0.7) never ends on
// some invalid inputs — a file holding just "," yields documents forever while memory grows
// (found by fuzz/fuzz_config; regression input in fuzz/regressions/fuzz_config/) — so the
// exporter never asks it for "all" of them.
struct DocumentCount {
  int count = 0;
  int second_line = -1;  // 0-based line where the second document starts
};

class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { last_start_line = mark.line; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  int last_start_line = -1;
};

DocumentCount CountDocuments(const std::string& yaml_text) {
  std::istringstream input(yaml_text);
  YAML::Parser parser(input);
  DocumentStarts handler;
  DocumentCount documents;
  while (documents.count < 2 && parser.HandleNextDocument(handler)) {
    if (++documents.count == 2) documents.second_line = handler.last_start_line;
  }
  return documents;
}

}  // namespace

// What a YAML node is, for "expected X, got Y" messages.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return QuoteForMessage(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// A key path segment as written in messages; odd keys are quoted so they cannot break the line.
std::string PathSegment(std::string_view key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), IsPlainKeyCharacter);
  return plain ? std::string(key) : QuoteForMessage(key);
}

std::string ReadConfigFile(const std::string& path, std::string_view what) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    throw ConfigError(path + ": cannot open the " + std::string(what) + ": " +
                      std::strerror(errno));
  }
  std::string text;
  std::array<char, 8192> buffer;
  while (true) {
    const std::size_t read = std::fread(buffer.data(), 1, buffer.size(), file.get());
    text.append(buffer.data(), read);
    if (read < buffer.size()) break;
  }
  if (std::ferror(file.get()) != 0) {
    throw ConfigError(path + ": cannot read the " + std::string(what) + ": " +
                      std::strerror(errno));
  }
  return text;
}

void YamlReader::ReadDocument(const std::string& yaml_text,
                              const std::function<void(const YAML::Node& root)>& read) const {
  try {
    const DocumentCount documents = CountDocuments(yaml_text);
    if (documents.count > 1)
      Fail(documents.second_line, "", "expected one YAML document, got more");
    if (documents.count == 0) return;
    const YAML::Node root = YAML::Load(yaml_text);
    if (root.IsNull()) return;
    read(root);
  } catch (const YAML::Exception& error) {
    const std::string column =
        error.mark.is_null() ? "" : " (column " + std::to_string(error.mark.column + 1) + ")";
    Fail(error.mark.is_null() ? -1 : error.mark.line, "", "invalid YAML: " + error.msg + column);
  }
}

std::optional<bool> ParseYamlBool(std::string_view text) {
  for (const std::string_view yes :
       {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}) {
    if (text == yes) return true;
  }
  for (const std::string_view no :
       {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}) {
    if (text == no) return false;
  }
  return std::nullopt;
}

}  // namespace exporter::config
