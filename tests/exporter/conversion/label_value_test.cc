// Route names and client IPs are untrusted (docs/snapshot-protocol.md, rule 5): whatever they
// hold, the exposition must stay valid, unique per series and with intact sums.
#include "exporter/conversion/label_value.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

#include "conversion_harness.h"
#include "exporter/conversion/snapshot_metrics.h"
#include "exposition.h"

namespace {

using proxy_client::InOut;
using proxy_client::NamedValues;

const std::string kHostileNames[] = {
    "quote\"inside",
    "back\\slash",
    "trailing backslash\\",
    "new\nline",
    "carriage\rreturn",
    "{braces}",
    "a=b,c=\"d\"",
    "# HELP injected",
    "tab\there",
    std::string("nul\0byte", 8),
    "invalid \xff byte",
    "invalid \xfe byte",  // the same as the previous after replacement: merged
    "truncated \xe2\x82",
    "overlong \xc0\xaf",
    "surrogate \xed\xa0\x80",
    "other",  // collides with the folded "other"
    "caf\xc3\xa9 \xf0\x9f\x98\x80",
    std::string(100000, 'x'),
    "",
};

proxy_client::Snapshot HostileSnapshot() {
  proxy_client::Snapshot snapshot;
  snapshot.connections.by_route.emplace();
  snapshot.connections.by_ip.emplace();
  snapshot.throughput.emplace();
  snapshot.throughput->by_route.emplace();
  snapshot.throughput->by_ip.emplace();
  double value = 1;
  for (const auto& name : kHostileNames) {
    snapshot.connections.by_route->emplace_back(name, value);
    snapshot.connections.by_ip->emplace_back(name, value);
    snapshot.throughput->by_route->emplace_back(name, InOut{value, 2 * value});
    snapshot.throughput->by_ip->emplace_back(name, InOut{value, 2 * value});
    value *= 2;
  }
  snapshot.proxy = proxy_client::ProxyInfo{"n\"a\\m\ne \xff", "v\xc0", "i", std::nullopt};
  return snapshot;
}

// Sums of the family's samples per value of label "direction" ("" when absent).
std::map<std::string, double> SumByDirection(const prometheus::MetricFamily& family) {
  std::map<std::string, double> sums;
  for (const auto& metric : family.metric) {
    std::string direction;
    for (const auto& label : metric.label) {
      if (label.name == "direction") direction = label.value;
    }
    sums[direction] += metric.gauge.value;
  }
  return sums;
}

}  // namespace

TEST_CASE("Hostile route and IP names give valid, unique series with intact sums") {
  exporter::conversion::MetricsOptions options;
  SUBCASE("everything exported") {
    options.ips.top = 1000;
    options.routes.max = 1000;
  }
  SUBCASE("folded") {
    options.ips.top = 3;
    options.routes.max = 2;
  }
  SUBCASE("anonymised") { options.ips.anonymize = exporter::conversion::IpAnonymization::kPrefix; }
  const auto converted =
      test_support::Convert(HostileSnapshot(), options, std::chrono::system_clock::time_point{});
  const auto& families = converted.families;

  const double total = static_cast<double>((1u << std::size(kHostileNames)) - 1);
  std::set<std::string> series;
  for (const auto& family : families) {
    for (const auto& metric : family.metric) {
      std::string key = family.name;
      for (const auto& label : metric.label) {
        CHECK(exporter::conversion::IsValidUtf8(label.value));
        key += '\0' + label.name + '\0' + label.value;
      }
      CHECK_MESSAGE(series.insert(key).second, "duplicate series in " << family.name);
    }
    if (family.name == "smartproxy_route_connections_active" ||
        family.name == "smartproxy_ip_connections_active") {
      CHECK(SumByDirection(family)[""] == total);
    }
    if (family.name == "smartproxy_route_throughput_bytes_per_second" ||
        family.name == "smartproxy_ip_throughput_bytes_per_second") {
      auto sums = SumByDirection(family);
      CHECK(sums["in"] == total);
      CHECK(sums["out"] == 2 * total);
    }
  }
  const std::string& text = converted.text;
  CHECK(text == test_support::PrometheusCppText(families));
  CHECK_PROMTOOL_CLEAN(text);
}

TEST_CASE("Invalid UTF-8 is replaced by U+FFFD per maximal subpart") {
  CHECK(exporter::conversion::ToValidUtf8("plain") == "plain");
  CHECK(exporter::conversion::ToValidUtf8("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(exporter::conversion::ToValidUtf8("a\xff") == "a\xef\xbf\xbd");
  CHECK(exporter::conversion::ToValidUtf8("\xe2\x82") == "\xef\xbf\xbd");
  CHECK(exporter::conversion::ToValidUtf8("\xe2\x82x") == "\xef\xbf\xbdx");
  CHECK(exporter::conversion::ToValidUtf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(exporter::conversion::ToValidUtf8("\xed\xa0\x80") ==
        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(exporter::conversion::ToValidUtf8("\xf4\x90\x80\x80") ==
        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(exporter::conversion::ToValidUtf8("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");
  CHECK_FALSE(exporter::conversion::IsValidUtf8("\xf0\x9f\x98"));
  CHECK(exporter::conversion::IsValidUtf8(std::string("\0", 1)));
}

TEST_CASE("UTF-8 is checked alike wherever a sequence falls against 8-byte words") {
  // IsValidUtf8 skips 8 ASCII bytes at a time: every sequence is tried at every offset of
  // two words and a half, so that it starts, ends or straddles a word boundary (7/8, 15/16).
  const std::string ascii(24, 'a');
  const std::string valid[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\x9f\xbf"};
  // Ill-formed, each with what replaces it.
  const std::pair<std::string, std::string> invalid[] = {
      {"\xff", "\xef\xbf\xbd"},
      {"\x80", "\xef\xbf\xbd"},
      {"\xe2\x82", "\xef\xbf\xbd"},                              // cut short
      {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                  // overlong
      {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  // surrogate
  };
  for (std::size_t offset = 0; offset <= ascii.size(); ++offset) {
    CAPTURE(offset);
    const std::string before = ascii.substr(0, offset);
    const std::string after = ascii.substr(offset);
    for (const auto& sequence : valid) {
      const std::string text = before + sequence + after;
      CHECK(exporter::conversion::IsValidUtf8(text));
      CHECK(exporter::conversion::ToValidUtf8(text) == text);
      CHECK(exporter::conversion::IsValidUtf8(before + sequence));  // ends the text
    }
    for (const auto& entry : invalid) {
      const std::string& sequence = entry.first;  // not a structured binding: CAPTURE takes it
      const std::string& replacement = entry.second;
      CAPTURE(sequence);
      CHECK_FALSE(exporter::conversion::IsValidUtf8(before + sequence + after));
      CHECK(exporter::conversion::ToValidUtf8(before + sequence + after) ==
            before + replacement + after);
      CHECK_FALSE(exporter::conversion::IsValidUtf8(before + sequence));
      // After a valid sequence, which the word check has to resume behind.
      CHECK_FALSE(exporter::conversion::IsValidUtf8(before + "\xc3\xa9" + after + sequence));
    }
  }
  CHECK_FALSE(exporter::conversion::IsValidUtf8(std::string(15, 'a') + "\xff"));  // offset 15
  CHECK(exporter::conversion::IsValidUtf8(std::string(7, 'a') + "\xc3\xa9"));     // 7/8
}
