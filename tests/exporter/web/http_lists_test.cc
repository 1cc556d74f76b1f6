#include "exporter/web/http_lists.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using exporter::web::ForEachListElement;
using exporter::web::ParameterValue;
using exporter::web::Quality;

TEST_CASE("A list header splits into trimmed values and their parameters; empty ones skipped") {
  std::vector<std::string> seen;
  ForEachListElement(" gzip ;q=0.5,, deflate,\tbr ; x=1 ;q=1 ,", [&](auto value, auto params) {
    seen.push_back(std::string(value) + "|" + std::string(params));
  });
  CHECK(seen == std::vector<std::string>{"gzip|q=0.5", "deflate|", "br| x=1 ;q=1 "});
}

TEST_CASE("Parameters are found by name ignoring case, quotes removed") {
  CHECK(ParameterValue(" version=1.0.0; q=0.5", "version") == "1.0.0");
  CHECK(ParameterValue("Version = \"0.0.1\" ", "version") == "0.0.1");
  CHECK(ParameterValue("q=0.5", "version").empty());
  CHECK(ParameterValue("", "q").empty());
  CHECK(ParameterValue("qq=1;q=0.2", "q") == "0.2");
}

TEST_CASE("Quality: 1 when absent, clamped to [0, 1], 0 when not a number") {
  CHECK(Quality("") == 1.0);
  CHECK(Quality("version=1") == 1.0);
  CHECK(Quality("q=0.25") == 0.25);
  CHECK(Quality("Q=0") == 0.0);
  CHECK(Quality("q=2") == 1.0);
  CHECK(Quality("q=-1") == 0.0);
  CHECK(Quality("q=abc") == 0.0);
  CHECK(Quality("q=0.5x") == 0.0);
  CHECK(Quality("q=nan") == 0.0);
}
