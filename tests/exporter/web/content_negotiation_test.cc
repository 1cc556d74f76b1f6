#include "exporter/web/content_negotiation.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using exporter::conversion::TextFormat;
using exporter::web::NegotiateExpositionFormat;

constexpr std::string_view kText = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kOpenMetrics100 =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
constexpr std::string_view kOpenMetrics001 =
    "application/openmetrics-text; version=0.0.1; charset=utf-8";

std::string ContentType(std::string_view accept) {
  return std::string(NegotiateExpositionFormat(accept).content_type);
}

}  // namespace

TEST_CASE("Prometheus 2.42's Accept header gets OpenMetrics 1.0.0") {
  const auto format = NegotiateExpositionFormat(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
      "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
  CHECK(format.format == TextFormat::kOpenMetrics);
  CHECK(format.content_type == kOpenMetrics100);
}

TEST_CASE("No Accept, */*, text/plain and unknown types get the 0.0.4 text") {
  for (const char* accept : {"", "*/*", "text/plain", "text/plain; version=0.0.4", "text/*",
                             "application/json", "application/openmetrics-text; version=2.0.0",
                             "text/plain; version=0.0.5", ",,", "garbage;;;q"}) {
    CAPTURE(accept);
    const auto format = NegotiateExpositionFormat(accept);
    CHECK(format.format == TextFormat::kPrometheus);
    CHECK(format.content_type == kText);
  }
}

TEST_CASE("Quality values decide, the first listed wins among equals, q=0 never wins") {
  // What vmagent and many scrapers send: text first.
  CHECK(ContentType("text/plain;version=0.0.4;q=1,*/*;q=0.1") == kText);
  CHECK(ContentType("text/plain;q=0.5, application/openmetrics-text;q=0.6") == kOpenMetrics100);
  CHECK(ContentType("application/openmetrics-text;q=0.5, text/plain;q=0.6") == kText);
  CHECK(ContentType("text/plain, application/openmetrics-text") == kText);
  CHECK(ContentType("application/openmetrics-text, text/plain") == kOpenMetrics100);
  CHECK(ContentType("application/openmetrics-text;q=0, text/plain;q=0.1") == kText);
  CHECK(ContentType("application/openmetrics-text;q=0") == kText);
  // A garbled q reads as 0, so that element is not chosen.
  CHECK(ContentType("application/openmetrics-text;q=high, text/plain;q=0.2") == kText);
}

TEST_CASE("The OpenMetrics version asked for is echoed; names and parameters ignore case") {
  CHECK(ContentType("application/openmetrics-text; version=0.0.1") == kOpenMetrics001);
  CHECK(ContentType("application/openmetrics-text;version=\"1.0.0\"") == kOpenMetrics100);
  CHECK(ContentType("Application/OpenMetrics-Text; Version=1.0.0; Q=0.9") == kOpenMetrics100);
  CHECK(ContentType("application/openmetrics-text ; charset=utf-8") == kOpenMetrics100);
  CHECK(ContentType("application/openmetrics-text;version=0.0.1;q=0.75,"
                    "application/openmetrics-text;version=1.0.0;q=0.8") == kOpenMetrics100);
}
