#pragma once

#include <string_view>

// The list headers of HTTP (RFC 9110 5.6.1, 12.4.2): Accept and Accept-Encoding are comma-
// separated elements, each a value with ;-separated parameters, one of which may be the
// quality `q`. One reading for both headers.
namespace exporter::web {

// Calls visit(value, parameters) for each element of `header`, in order: `value` without
// surrounding whitespace, `parameters` what follows its first ';' (empty when none). Empty
// elements (",,") are skipped.
template <typename Visit>
void ForEachListElement(std::string_view header, Visit visit);

// The value of parameter `name` (ASCII case-insensitive) in `parameters`, without surrounding
// whitespace and without the quotes of a quoted-string; empty when the parameter is absent.
std::string_view ParameterValue(std::string_view parameters, std::string_view name);

// The element's quality, q (RFC 9110 12.4.2): 1 when absent; a value that is not a number
// reads as 0, "not acceptable", so a garbled element is never chosen.
double Quality(std::string_view parameters);

}  // namespace exporter::web

#include "exporter/strings/ascii.h"

namespace exporter::web {

template <typename Visit>
void ForEachListElement(std::string_view header, Visit visit) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view element = header.substr(0, comma);
    const auto semicolon = element.find(';');
    const std::string_view value = strings::TrimOws(element.substr(0, semicolon));
    if (!value.empty()) {
      visit(value, semicolon == std::string_view::npos ? std::string_view()
                                                       : element.substr(semicolon + 1));
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
}

}  // namespace exporter::web
