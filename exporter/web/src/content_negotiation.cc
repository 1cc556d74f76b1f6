#include "exporter/web/content_negotiation.h"

#include <optional>

#include "exporter/strings/ascii.h"
#include "exporter/web/http_lists.h"

namespace exporter::web {
namespace {

constexpr std::string_view kOpenMetrics100ContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
constexpr std::string_view kOpenMetrics001ContentType =
    "application/openmetrics-text; version=0.0.1; charset=utf-8";

// What one media range of an Accept header asks for, if it is a format we write.
std::optional<ExpositionFormat> FormatOfRange(std::string_view range, std::string_view parameters) {
  using conversion::TextFormat;
  const std::string_view version = ParameterValue(parameters, "version");
  if (strings::EqualsIgnoreCase(range, "application/openmetrics-text")) {
    if (version.empty() || version == "1.0.0") {
      return ExpositionFormat{TextFormat::kOpenMetrics, kOpenMetrics100ContentType};
    }
    if (version == "0.0.1") {
      return ExpositionFormat{TextFormat::kOpenMetrics, kOpenMetrics001ContentType};
    }
    return std::nullopt;
  }
  const bool text_plain = strings::EqualsIgnoreCase(range, "text/plain");
  if ((text_plain && (version.empty() || version == "0.0.4")) ||
      strings::EqualsIgnoreCase(range, "text/*") || range == "*/*") {
    return ExpositionFormat{TextFormat::kPrometheus, kPrometheusTextContentType};
  }
  return std::nullopt;
}

}  // namespace

ExpositionFormat NegotiateExpositionFormat(std::string_view accept) {
  ExpositionFormat chosen{conversion::TextFormat::kPrometheus, kPrometheusTextContentType};
  double best = 0;
  ForEachListElement(accept, [&](std::string_view range, std::string_view parameters) {
    const double quality = Quality(parameters);
    if (quality <= best) return;  // q=0 is never chosen; the first of equals stays
    if (const auto format = FormatOfRange(range, parameters)) {
      chosen = *format;
      best = quality;
    }
  });
  return chosen;
}

}  // namespace exporter::web
