#pragma once

#include <string_view>

#include "exporter/conversion/text_writer.h"

// Which text flavour a scrape is answered in, from its Accept header (RFC 9110 12.5.1).
namespace exporter::web {

struct ExpositionFormat {
  conversion::TextFormat format = conversion::TextFormat::kPrometheus;
  std::string_view content_type;  // the Content-Type of the answer, naming the version served
};

inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// The format for an Accept header value (empty when the request has none):
// - application/openmetrics-text with version 1.0.0 or 0.0.1, or no version, is OpenMetrics
//   (both versions are written the same way; the Content-Type echoes the one chosen);
// - text/plain with version 0.0.4 or no version, text/* and */* are the Prometheus text format;
// - the acceptable range with the highest q wins, the first listed among equals; q=0 and
//   anything else (another version, another type) are never chosen;
// - with nothing acceptable, the Prometheus text format, as every Prometheus exporter does
//   (never 406: a scraper that cannot say what it wants still gets metrics).
// Prometheus 2.42 sends "application/openmetrics-text;version=1.0.0,application/openmetrics-
// text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1": OpenMetrics 1.0.0.
ExpositionFormat NegotiateExpositionFormat(std::string_view accept);

}  // namespace exporter::web
