#include "exporter/web/http_lists.h"

#include <cstdlib>
#include <string>

namespace exporter::web {

std::string_view ParameterValue(std::string_view parameters, std::string_view name) {
  while (!parameters.empty()) {
    const auto semicolon = parameters.find(';');
    const std::string_view parameter = strings::TrimOws(parameters.substr(0, semicolon));
    const auto equals = parameter.find('=');
    if (equals != std::string_view::npos &&
        strings::EqualsIgnoreCase(strings::TrimOws(parameter.substr(0, equals)), name)) {
      std::string_view value = strings::TrimOws(parameter.substr(equals + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
    if (semicolon == std::string_view::npos) break;
    parameters.remove_prefix(semicolon + 1);
  }
  return {};
}

double Quality(std::string_view parameters) {
  const std::string_view q = ParameterValue(parameters, "q");
  if (q.empty()) return 1.0;
  const std::string text(q);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !(value > 0)) return 0.0;
  return value > 1 ? 1.0 : value;
}

}  // namespace exporter::web
