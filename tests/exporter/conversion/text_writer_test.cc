#include "exporter/conversion/text_writer.h"

#include <doctest/doctest.h>
#include <prometheus/metric_family.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "conversion_harness.h"
#include "exporter/conversion/metrics_options.h"
#include "exporter/conversion/text_buffer.h"
#include "fixture_snapshot.h"

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string Oracle(const std::vector<MetricFamily>& families) {
  return test_support::PrometheusCppText(families);
}

class RandomFamilies {
 public:
  explicit RandomFamilies(std::uint64_t seed) : rng_(seed) {}

  std::vector<MetricFamily> Next() {
    std::vector<MetricFamily> families(Pick(0, 5));
    for (auto& family : families) {
      family.name = Name();
      family.help = Chance(4) ? "" : Help();
      // The types the conversion emits (info families are gauges in this format).
      family.type = Chance(2) ? MetricType::Counter : MetricType::Gauge;
      family.metric.resize(Pick(0, 6));
      const std::size_t label_count = Pick(0, 3);
      for (auto& metric : family.metric) {
        for (std::size_t i = 0; i < label_count; ++i) {
          metric.label.push_back({Name(), LabelValue()});
        }
        metric.counter.value = Double();
        metric.gauge.value = Double();
      }
    }
    return families;
  }

 private:
  std::size_t Pick(std::size_t low, std::size_t high) {
    return std::uniform_int_distribution<std::size_t>(low, high)(rng_);
  }
  bool Chance(std::size_t one_in) { return Pick(1, one_in) == 1; }

  std::string Name() {
    static constexpr char kChars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:0123456789";
    std::string name(1, kChars[Pick(0, 52)]);
    for (std::size_t i = Pick(0, 20); i > 0; --i)
      name.push_back(kChars[Pick(0, sizeof kChars - 2)]);
    return name;
  }

  std::string Help() {
    std::string help;
    for (std::size_t i = Pick(1, 40); i > 0; --i) {
      char c = static_cast<char>(Pick(32, 126));
      help.push_back(c == '\\' ? '/' : c);
    }
    return help;
  }

  // Any bytes, with the escaped characters and invalid UTF-8 over-represented.
  std::string LabelValue() {
    static constexpr char kSpecial[] = {'\\', '"', '\n', '{', '}', '=', ',', '\0', '\xff', '\xc3'};
    std::string value;
    for (std::size_t i = Pick(0, 30); i > 0; --i) {
      value.push_back(Chance(3) ? kSpecial[Pick(0, sizeof kSpecial - 1)]
                                : static_cast<char>(Pick(0, 255)));
    }
    return value;
  }

  std::uint64_t Count() { return Chance(2) ? Pick(0, 1000) : rng_(); }

  double Double() {
    static const double kSpecial[] = {0.0,
                                      -0.0,
                                      std::numeric_limits<double>::quiet_NaN(),
                                      -std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::min(),
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::lowest(),
                                      9007199254740992.0,
                                      9999999999999998.0,
                                      1e16,
                                      1e15,
                                      0.1,
                                      1.0 / 3.0,
                                      0.5,
                                      0.95,
                                      0.99,
                                      1e-5,
                                      123456.789};
    switch (Pick(0, 5)) {
      case 0:
        return kSpecial[Pick(0, std::size(kSpecial) - 1)];
      case 1:  // integers up to 2^53, both signs
        return static_cast<double>(static_cast<std::int64_t>(rng_() >> 11)) * (Chance(4) ? -1 : 1);
      case 2:  // small integers
        return static_cast<double>(Pick(0, 100000));
      case 3:  // any bit pattern
        return std::bit_cast<double>(rng_());
      case 4:  // decimal fractions of all sizes
        return static_cast<double>(Pick(0, 1000000)) / 1000.0 *
               std::pow(10.0, static_cast<double>(Pick(0, 60)) - 30.0);
      default:
        return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
    }
  }

  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("Text writer output equals prometheus-cpp's TextSerializer on random families") {
  RandomFamilies random(20240601);
  for (int iteration = 0; iteration < 20000; ++iteration) {
    const auto families = random.Next();
    const std::string expected = Oracle(families);
    const std::string actual = test_support::WriterText(families);
    REQUIRE_MESSAGE(actual == expected, "iteration " << iteration << "\nexpected:\n"
                                                     << expected << "\nactual:\n"
                                                     << actual);
  }
}

TEST_CASE("Text writer output equals prometheus-cpp's TextSerializer on the golden snapshot") {
  const auto converted = test_support::Convert(test_support::EveryGroupSnapshot(),
                                               exporter::conversion::MetricsOptions{},
                                               exporter_test::FullSnapshotNow());
  CHECK(converted.text == Oracle(converted.families));
}

TEST_CASE("Text writer formats doubles exactly like prometheus-cpp 1.0.1") {
  auto gauge_line = [](double value) {
    MetricFamily family{"g", "", MetricType::Gauge, {}};
    family.metric.emplace_back().gauge.value = value;
    std::string text = test_support::WriterText({family});
    CHECK(text == Oracle({family}));
    return text.substr(text.find("\ng ") + 3);
  };
  CHECK(gauge_line(0) == "0\n");
  CHECK(gauge_line(-0.0) == "-0\n");
  CHECK(gauge_line(0.1) == "0.1\n");
  CHECK(gauge_line(1.0 / 3.0) == "0.3333333333333333\n");
  CHECK(gauge_line(1e15) == "1000000000000000\n");
  CHECK(gauge_line(1e16) == "1e+16\n");
  CHECK(gauge_line(9007199254740992.0) == "9007199254740992\n");
  CHECK(gauge_line(1e-5) == "1e-05\n");
  CHECK(gauge_line(std::numeric_limits<double>::lowest()) == "-1.797693134862316e+308\n");
  CHECK(gauge_line(std::numeric_limits<double>::quiet_NaN()) == "Nan\n");
  CHECK(gauge_line(std::numeric_limits<double>::infinity()) == "+Inf\n");
  CHECK(gauge_line(-std::numeric_limits<double>::infinity()) == "-Inf\n");
}

TEST_CASE("Text writer escapes label values and HELP text as the text format requires") {
  exporter::conversion::TextBuffer out;
  exporter::conversion::TextWriter writer(&out);
  writer.Family({"m", "a \\ help\nwith two lines", exporter::conversion::MetricType::kCounter});
  writer.Sample(1, {{"l", "q\"b\\n\nx"}, {"e", ""}});
  CHECK(out.view() ==
        "# HELP m a \\\\ help\\nwith two lines\n"
        "# TYPE m counter\n"
        "m{l=\"q\\\"b\\\\n\\nx\",e=\"\"} 1\n");
}

TEST_CASE("Text writer writes info families as gauges and leaves out an empty HELP") {
  exporter::conversion::TextBuffer out;
  exporter::conversion::TextWriter writer(&out);
  writer.Family({"x_info", "", exporter::conversion::MetricType::kInfo});
  writer.Sample(1, {{"version", "1.2"}});
  writer.Family({"y", "h"});
  CHECK(out.view() ==
        "# TYPE x_info gauge\nx_info{version=\"1.2\"} 1\n# HELP y h\n# TYPE y gauge\n");
}

TEST_CASE("Text writer appends to existing content and grows the buffer as needed") {
  exporter::conversion::TextBuffer out(8);
  out.Append("prefix\n");
  exporter::conversion::TextWriter writer(&out);
  writer.Family({"m", "h"});
  const std::string long_value(100000, 'v');
  writer.Sample(2, {{"l", long_value}});
  CHECK(out.view() == "prefix\n# HELP m h\n# TYPE m gauge\nm{l=\"" + long_value + "\"} 2\n");
}

// OpenMetrics 1.0.0, checked against the specification by hand
// (https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md);
// the integration tests run the whole exposition through prometheus_client's strict parser.
namespace {

using exporter::conversion::TextFormat;

std::string OpenMetricsText(const std::function<void(exporter::conversion::TextWriter&)>& write) {
  exporter::conversion::TextBuffer out;
  exporter::conversion::TextWriter writer(&out, TextFormat::kOpenMetrics);
  write(writer);
  writer.End();
  return std::string(out.view());
}

}  // namespace

TEST_CASE("OpenMetrics: a counter family drops _total, and _created follows each sample") {
  using exporter::conversion::MetricType;
  const std::string text = OpenMetricsText([](auto& writer) {
    writer.Family({"p_requests_total", "Requests.", MetricType::kCounter, 1700000000.25});
    writer.Sample(7, {{"route", "a"}});
    writer.Sample(0, {{"route", "b"}});
  });
  CHECK(text ==
        "# HELP p_requests Requests.\n"
        "# TYPE p_requests counter\n"
        "p_requests_total{route=\"a\"} 7\n"
        "p_requests_created{route=\"a\"} 1700000000.25\n"
        "p_requests_total{route=\"b\"} 0\n"
        "p_requests_created{route=\"b\"} 1700000000.25\n"
        "# EOF\n");
}

TEST_CASE("OpenMetrics: a counter without a known start has no _created; units from the name") {
  using exporter::conversion::MetricType;
  const std::string text = OpenMetricsText([](auto& writer) {
    writer.Single({"p_sent_bytes_total", "", MetricType::kCounter}, 12);
    writer.Single({"p_age_seconds", "Age."}, 0.5);
    // "_per_second" is no unit suffix, and neither is a name that only ends in the letters.
    writer.Single({"p_throughput_bytes_per_second", ""}, 3);
    writer.Single({"p_kilobytes", ""}, 4);
  });
  CHECK(text ==
        "# TYPE p_sent_bytes counter\n"
        "# UNIT p_sent_bytes bytes\n"
        "p_sent_bytes_total 12\n"
        "# HELP p_age_seconds Age.\n"
        "# TYPE p_age_seconds gauge\n"
        "# UNIT p_age_seconds seconds\n"
        "p_age_seconds 0.5\n"
        "# TYPE p_throughput_bytes_per_second gauge\n"
        "p_throughput_bytes_per_second 3\n"
        "# TYPE p_kilobytes gauge\n"
        "p_kilobytes 4\n"
        "# EOF\n");
}

TEST_CASE("OpenMetrics: info families drop _info and are typed info; NaN is spelled NaN") {
  using exporter::conversion::MetricType;
  const std::string text = OpenMetricsText([](auto& writer) {
    writer.Family({"p_build_info", "Build.", MetricType::kInfo});
    writer.Sample(1, {{"version", "1.2"}});
    writer.Single({"p_ratio", ""}, std::numeric_limits<double>::quiet_NaN());
    writer.Single({"p_inf", ""}, -std::numeric_limits<double>::infinity());
  });
  CHECK(text ==
        "# HELP p_build Build.\n"
        "# TYPE p_build info\n"
        "p_build_info{version=\"1.2\"} 1\n"
        "# TYPE p_ratio gauge\n"
        "p_ratio NaN\n"
        "# TYPE p_inf gauge\n"
        "p_inf -Inf\n"
        "# EOF\n");
}

TEST_CASE("OpenMetrics: HELP escapes the double quote too; label values as in 0.0.4") {
  const std::string text = OpenMetricsText([](auto& writer) {
    writer.Family({"m", "say \"hi\" \\ now\nok"});
    writer.Sample(1, {{"l", "q\"b\\\nx"}});
  });
  CHECK(text ==
        "# HELP m say \\\"hi\\\" \\\\ now\\nok\n"
        "# TYPE m gauge\n"
        "m{l=\"q\\\"b\\\\\\nx\"} 1\n"
        "# EOF\n");
}

TEST_CASE("The Prometheus flavour ignores created times and writes nothing at the end") {
  using exporter::conversion::MetricType;
  exporter::conversion::TextBuffer out;
  exporter::conversion::TextWriter writer(&out);
  writer.Family({"p_requests_total", "", MetricType::kCounter, 1700000000.0});
  writer.Sample(7);
  writer.End();
  CHECK(out.view() == "# TYPE p_requests_total counter\np_requests_total 7\n");
}
