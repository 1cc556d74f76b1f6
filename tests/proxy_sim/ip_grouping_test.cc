// Anonymisation at the source (docs/snapshot-protocol.md, "IP grouping"): proxy-sim's grouped
// answer must be what the exporter computes from its ungrouped one, and the network of every
// fixture address must be the exporter's (the same fixture holds the Node adapter to it).
#include "proxy_sim/ip_grouping.h"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <tuple>

#include "exporter/conversion/ip_aggregation.h"
#include "json_checker.h"
#include "proxy_client/snapshot_parser.h"
#include "proxy_sim/http_request.h"
#include "proxy_sim/snapshot_json.h"

namespace proxy_sim {
namespace {

using proxy_sim_test::JsonChecker;
using proxy_sim_test::JsonValue;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

proxy_client::Snapshot Parse(std::string_view json) {
  auto parsed = proxy_client::ParseSnapshot(json);
  REQUIRE(parsed.has_value());
  return std::move(*parsed);
}

TEST_CASE("IpNetworkOf and the adapter's fixture agree with the exporter's IpNetwork") {
  const std::string text =
      ReadFile(std::string(SOURCE_DIR) + "/adapters/smartproxy/test/fixtures/ip_networks.json");
  JsonChecker checker;
  const auto cases = checker.Parse(text);
  INFO("JSON error: " << checker.error());
  REQUIRE(cases.has_value());
  REQUIRE(cases->items.size() > 1000);
  for (const JsonValue& row : cases->items) {
    REQUIRE(row.items.size() == 4);
    const std::string& ip = row.items[0].text;
    const auto ipv4_prefix = static_cast<unsigned>(row.items[1].number);
    const auto ipv6_prefix = static_cast<unsigned>(row.items[2].number);
    const std::optional<std::string> expected = row.items[3].kind == JsonValue::Kind::kNull
                                                    ? std::nullopt
                                                    : std::optional<std::string>(row.items[3].text);
    CAPTURE(ip);
    CAPTURE(ipv4_prefix);
    CAPTURE(ipv6_prefix);
    CHECK(exporter::conversion::IpNetwork(ip, ipv4_prefix, ipv6_prefix) == expected);
    CHECK(IpNetworkOf(ip, {ipv4_prefix, ipv6_prefix}) == expected);
  }
}

// The exporter's series for `snapshot` under `options`: name -> (connections, in, out), -1 for
// a value not reported.
using SeriesValues = std::tuple<double, double, double>;
std::map<std::string, SeriesValues> Series(const proxy_client::Snapshot& snapshot,
                                           const exporter::conversion::IpOptions& options) {
  const exporter::conversion::FoldedSeries folded =
      exporter::conversion::AggregateIps(snapshot, options);
  const auto values = [](const exporter::conversion::SeriesEntry& entry) {
    const proxy_client::InOut pair = entry.throughput.value_or(proxy_client::InOut{-1, -1});
    return SeriesValues{entry.connections.value_or(-1), pair.in, pair.out};
  };
  std::map<std::string, SeriesValues> series;
  for (const auto& entry : folded.kept) series[std::string(entry.name)] = values(entry);
  if (folded.other) series["other"] = values(*folded.other);
  return series;
}

TEST_CASE("Grouped snapshots equal the exporter's grouping of the ungrouped snapshot") {
  for (const bool hostile : {false, true}) {
    for (const auto generation : {Generation::k27, Generation::k21_1}) {
      SimulationOptions options;
      options.ips = 3000;
      options.seed = 7;
      options.generation = generation;
      Simulation simulation(options);
      simulation.Advance();
      SnapshotWriter writer;
      const proxy_client::Snapshot ungrouped =
          Parse(std::string(writer.Write(simulation, {.hostile_names = hostile})));
      for (const IpGrouping grouping : {IpGrouping{24, 64}, IpGrouping{32, 128}, IpGrouping{0, 0},
                                        IpGrouping{16, 48}, IpGrouping{8, 20}}) {
        for (const std::size_t top : {std::size_t{1}, std::size_t{20}, std::size_t{5000}}) {
          CAPTURE(hostile);
          CAPTURE(grouping.ipv4_prefix);
          CAPTURE(grouping.ipv6_prefix);
          CAPTURE(top);
          const std::string grouped_json(writer.Write(
              simulation, {.max_ips = top, .hostile_names = hostile, .ip_grouping = grouping}));
          const proxy_client::Snapshot grouped = Parse(grouped_json);

          exporter::conversion::IpOptions by_exporter;
          by_exporter.top = static_cast<unsigned>(top);
          by_exporter.anonymize = exporter::conversion::IpAnonymization::kPrefix;
          by_exporter.ipv4_prefix = grouping.ipv4_prefix;
          by_exporter.ipv6_prefix = grouping.ipv6_prefix;
          exporter::conversion::IpOptions as_sent;
          as_sent.top = static_cast<unsigned>(top);
          // The kept networks and "other" (what the cut left out, from the totals) are equal.
          CHECK(Series(grouped, as_sent) == Series(ungrouped, by_exporter));
          CHECK(grouped.connections.distinct_ips == ungrouped.connections.distinct_ips);
          REQUIRE(grouped.connections.by_ip.has_value());
          CHECK(grouped.connections.by_ip->size() <= top);
          REQUIRE(grouped.throughput.has_value());
          REQUIRE(grouped.throughput->by_ip.has_value());
          CHECK(grouped.throughput->by_ip->size() == grouped.connections.by_ip->size());
          for (std::size_t i = 0; i < grouped.connections.by_ip->size(); ++i) {
            CHECK((*grouped.throughput->by_ip)[i].first == (*grouped.connections.by_ip)[i].first);
          }
          // What the exporter checks before it trusts the keys.
          std::ostringstream grouping_json;
          grouping_json << "\"ipGrouping\":{\"ipv4Prefix\":" << grouping.ipv4_prefix
                        << ",\"ipv6Prefix\":" << grouping.ipv6_prefix << "},\"distinctNetworks\":";
          CHECK(grouped_json.find(grouping_json.str()) != std::string::npos);
        }
      }
    }
  }
}

TEST_CASE("The exporter's series from a grouped snapshot equal those it makes grouping itself") {
  SimulationOptions options;
  options.ips = 3000;
  options.seed = 5;
  Simulation simulation(options);
  simulation.Advance();
  SnapshotWriter writer;
  for (const bool hostile : {false, true}) {
    const proxy_client::Snapshot ungrouped =
        Parse(std::string(writer.Write(simulation, {.hostile_names = hostile})));
    for (const IpGrouping grouping : {IpGrouping{24, 64}, IpGrouping{16, 48}}) {
      for (const std::size_t top : {std::size_t{1}, std::size_t{20}, std::size_t{5000}}) {
        CAPTURE(hostile);
        CAPTURE(grouping.ipv4_prefix);
        CAPTURE(top);
        exporter::conversion::IpOptions ip_options;
        ip_options.top = static_cast<unsigned>(top);
        ip_options.anonymize = exporter::conversion::IpAnonymization::kPrefix;
        ip_options.ipv4_prefix = grouping.ipv4_prefix;
        ip_options.ipv6_prefix = grouping.ipv6_prefix;
        // As the exporter asks: ?ips=N&ipv4Prefix=&ipv6Prefix=, and checks ipGrouping.
        const proxy_client::Snapshot grouped = Parse(std::string(writer.Write(
            simulation, {.max_ips = top, .hostile_names = hostile, .ip_grouping = grouping})));
        CHECK(Series(grouped, ip_options) == Series(ungrouped, ip_options));
        CHECK(exporter::conversion::AggregateIps(grouped, ip_options).folded ==
              exporter::conversion::AggregateIps(ungrouped, ip_options).folded);
      }
    }
  }
}

TEST_CASE("A grouped snapshot without a cut lists every network with its sums") {
  SimulationOptions options;
  options.ips = 2000;
  options.seed = 11;
  Simulation simulation(options);
  simulation.Advance();
  SnapshotWriter writer;
  const proxy_client::Snapshot ungrouped = Parse(std::string(writer.Write(simulation, {})));
  const IpGrouping grouping{16, 32};
  const proxy_client::Snapshot grouped =
      Parse(std::string(writer.Write(simulation, {.ip_grouping = grouping})));
  std::map<std::string, double> connections;
  std::map<std::string, proxy_client::InOut> throughput;
  for (const auto& [ip, count] : *ungrouped.connections.by_ip) {
    connections[IpNetworkOf(ip, grouping).value_or("invalid")] += count;
  }
  for (const auto& [ip, pair] : *ungrouped.throughput->by_ip) {
    auto& sum = throughput[IpNetworkOf(ip, grouping).value_or("invalid")];
    sum.in += pair.in;
    sum.out += pair.out;
  }
  std::map<std::string, double> grouped_connections(grouped.connections.by_ip->begin(),
                                                    grouped.connections.by_ip->end());
  CHECK(grouped_connections == connections);
  REQUIRE(grouped.throughput->by_ip->size() == throughput.size());
  // Not a structured binding: CAPTURE's lambda cannot capture one before C++23 (clang).
  for (const auto& entry : *grouped.throughput->by_ip) {
    const std::string& network = entry.first;
    CAPTURE(network);
    CHECK(entry.second.in == throughput[network].in);
    CHECK(entry.second.out == throughput[network].out);
  }
  CHECK(grouped.connections.distinct_ips == 2000);
}

TEST_CASE("RouteRequest reads the grouping parameters and names a bad one") {
  const auto route = [](const char* query) {
    HttpRequest request;
    request.method = "GET";
    request.path = "/v1/snapshot";
    request.query = query;
    return RouteRequest(request);
  };
  CHECK_FALSE(route("ips=20").ip_grouping.has_value());
  const RouteResult both = route("ips=20&ipv4Prefix=24&ipv6Prefix=64");
  REQUIRE(both.ip_grouping.has_value());
  CHECK(both.max_ips == std::size_t{20});
  CHECK(both.ip_grouping->ipv4_prefix == 24);
  CHECK(both.ip_grouping->ipv6_prefix == 64);
  const RouteResult v4_only = route("ipv4Prefix=16");
  REQUIRE(v4_only.ip_grouping.has_value());
  CHECK(v4_only.ip_grouping->ipv4_prefix == 16);
  CHECK(v4_only.ip_grouping->ipv6_prefix == 64);
  CHECK(route("ipv6Prefix=0").ip_grouping->ipv6_prefix == 0);
  CHECK(route("ipv4Prefix=32&ipv6Prefix=128").kind == RouteKind::kSnapshot);
  CHECK_FALSE(route("ipv4Prefixes=3").ip_grouping.has_value());
  for (const char* bad :
       {"ipv4Prefix=33", "ipv4Prefix=", "ipv4Prefix=-1", "ipv4Prefix=+1", "ipv4Prefix=2x",
        "ips=1&ipv4Prefix=24&ipv6Prefix=129", "ipv6Prefix=99999999999999999999999"}) {
    CAPTURE(bad);
    const RouteResult result = route(bad);
    CHECK(result.kind == RouteKind::kBadQuery);
    CHECK(result.error.find(std::string_view(bad).find("ipv6") != std::string_view::npos
                                ? "ipv6Prefix"
                                : "ipv4Prefix") != std::string::npos);
  }
}

}  // namespace
}  // namespace proxy_sim
