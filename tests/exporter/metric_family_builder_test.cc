#include "exporter/metric_family_builder.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

struct Part {
  MetricFamily family;
  bool first = false;
};

}  // namespace

TEST_CASE("A family stream hands each family over in parts of at most the part size") {
  std::vector<Part> parts;
  exporter::MetricFamilyStream stream(2, [&](const MetricFamily& part, bool first) {
    parts.push_back({part, first});
  });
  stream.Begin("a_total", "help a", MetricType::Counter, 5);
  for (int i = 1; i <= 5; ++i) {
    const std::string value = "value-" + std::to_string(i) + "-long-enough-to-allocate";
    stream.Add(i, {{"x", value}, {"y", "b"}});
  }
  stream.Begin("b", "help b", MetricType::Gauge, 1);
  stream.Add(7);
  stream.Begin("c", "", MetricType::Untyped, 0);  // no samples: still one (empty) part
  stream.Begin("d", "help d", MetricType::Untyped, 1);
  stream.Add(-1, {{"z", "1"}});
  stream.End();
  stream.End();  // ending twice hands nothing over again

  REQUIRE(parts.size() == 6);
  const std::size_t sizes[] = {2, 2, 1, 1, 0, 1};
  const bool firsts[] = {true, false, false, true, true, true};
  const char* names[] = {"a_total", "a_total", "a_total", "b", "c", "d"};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    CAPTURE(i);
    CHECK(parts[i].family.metric.size() == sizes[i]);
    CHECK(parts[i].first == firsts[i]);
    CHECK(parts[i].family.name == names[i]);
  }
  CHECK(parts[1].family.help == "help a");
  CHECK(parts[2].family.type == MetricType::Counter);
  int expected = 1;
  for (std::size_t i = 0; i < 3; ++i) {
    for (const auto& metric : parts[i].family.metric) {
      CHECK(metric.counter.value == expected);
      REQUIRE(metric.label.size() == 2);
      CHECK(metric.label[0].name == "x");
      CHECK(metric.label[0].value ==
            "value-" + std::to_string(expected) + "-long-enough-to-allocate");
      CHECK(metric.label[1].name == "y");
      CHECK(metric.label[1].value == "b");
      ++expected;
    }
  }
  // Samples reused from family a carry nothing of it: no labels, no counter value.
  const auto& gauge = parts[3].family.metric[0];
  CHECK(parts[3].family.type == MetricType::Gauge);
  CHECK(gauge.gauge.value == 7);
  CHECK(gauge.counter.value == 0);
  CHECK(gauge.label.empty());
  const auto& untyped = parts[5].family.metric[0];
  CHECK(untyped.untyped.value == -1);
  CHECK(untyped.gauge.value == 0);
  REQUIRE(untyped.label.size() == 1);
  CHECK(untyped.label[0].name == "z");
}

TEST_CASE("A family stream's sink may move each part away") {
  std::vector<MetricFamily> families;
  exporter::MetricFamilyStream stream(std::numeric_limits<std::size_t>::max(),
                                      [&](MetricFamily& part, bool first) {
                                        CHECK(first);
                                        families.push_back(std::move(part));
                                      });
  stream.Begin("a", "help a", MetricType::Gauge, 3);
  for (int i = 0; i < 3; ++i) stream.Add(i, {{"i", std::to_string(i)}});
  stream.Begin("b", "help b", MetricType::Counter, 1);
  stream.Add(9, {{"l", "v"}, {"m", "w"}});
  stream.End();

  REQUIRE(families.size() == 2);
  CHECK(families[0].name == "a");
  CHECK(families[0].help == "help a");
  REQUIRE(families[0].metric.size() == 3);
  CHECK(families[0].metric[2].gauge.value == 2);
  CHECK(families[0].metric[2].label[0].value == "2");
  CHECK(families[1].name == "b");
  CHECK(families[1].type == MetricType::Counter);
  REQUIRE(families[1].metric.size() == 1);
  CHECK(families[1].metric[0].counter.value == 9);
  CHECK(families[1].metric[0].label.size() == 2);
}
