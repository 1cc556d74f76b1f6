#include "exporter/conversion/ip_aggregation.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

#include "exporter/conversion/route_aggregation.h"

namespace {

using proxy_client::InOut;
using proxy_client::NamedValues;

double SumConnections(const exporter::conversion::FoldedSeries& series) {
  double sum = 0;
  for (const auto& entry : series.kept) sum += entry.connections.value_or(0);
  if (series.other) sum += series.other->connections.value_or(0);
  return sum;
}

InOut SumThroughput(const exporter::conversion::FoldedSeries& series) {
  InOut sum;
  auto add = [&](const exporter::conversion::SeriesEntry& entry) {
    if (!entry.throughput) return;
    sum.in += entry.throughput->in;
    sum.out += entry.throughput->out;
  };
  for (const auto& entry : series.kept) add(entry);
  if (series.other) add(*series.other);
  return sum;
}

proxy_client::Snapshot WithIps(NamedValues<double> connections,
                               std::optional<NamedValues<InOut>> throughput = std::nullopt) {
  proxy_client::Snapshot snapshot;
  snapshot.connections.by_ip = std::move(connections);
  if (throughput) {
    snapshot.throughput.emplace();
    snapshot.throughput->by_ip = std::move(throughput);
  }
  return snapshot;
}

}  // namespace

TEST_CASE("Top-N IPs plus other preserve the per-IP sums exactly") {
  std::mt19937_64 rng(7);
  NamedValues<double> connections;
  NamedValues<InOut> throughput;
  double total = 0;
  InOut total_throughput;
  for (int i = 0; i < 5000; ++i) {
    std::string ip = "10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                     std::to_string(i % 256);
    double count = static_cast<double>(rng() % 1000);
    InOut bytes{static_cast<double>(rng() % (1ull << 40)),
                static_cast<double>(rng() % (1ull << 40))};
    connections.emplace_back(ip, count);
    throughput.emplace_back(ip, bytes);
    total += count;
    total_throughput.in += bytes.in;
    total_throughput.out += bytes.out;
  }
  exporter::conversion::IpOptions options;
  SUBCASE("default top") { options.top = 20; }
  SUBCASE("top larger than the IP count") { options.top = 100000; }
  SUBCASE("anonymised to /16 networks") {
    options.anonymize = exporter::conversion::IpAnonymization::kPrefix;
    options.ipv4_prefix = 16;
  }
  const auto snapshot = WithIps(connections, throughput);
  const auto series = exporter::conversion::AggregateIps(snapshot, options);
  CHECK(series.kept.size() <= options.top);
  REQUIRE(series.other.has_value());
  CHECK(SumConnections(series) == total);
  CHECK(SumThroughput(series).in == total_throughput.in);
  CHECK(SumThroughput(series).out == total_throughput.out);
}

TEST_CASE("IP ranking breaks ties by name, keeps the order of appearance and folds the rest") {
  const auto snapshot = WithIps({{"b", 5}, {"c", 5}, {"a", 5}, {"d", 9}, {"e", 1}});
  const auto series =
      exporter::conversion::AggregateIps(snapshot, exporter::conversion::IpOptions{3});
  REQUIRE(series.kept.size() == 3);
  CHECK(series.kept[0].name == "b");
  CHECK(series.kept[1].name == "a");
  CHECK(series.kept[2].name == "d");
  REQUIRE(series.other.has_value());
  CHECK(series.other->name == "other");
  CHECK(series.other->connections == 6.0);
  CHECK_FALSE(series.other->throughput.has_value());
  CHECK(series.folded == 2);
}

TEST_CASE("IP other is present and zero when nothing is folded") {
  const auto snapshot = WithIps({{"a", 1}}, NamedValues<InOut>{{"a", {1, 2}}});
  const auto series =
      exporter::conversion::AggregateIps(snapshot, exporter::conversion::IpOptions{});
  REQUIRE(series.other.has_value());
  CHECK(series.other->connections == 0.0);
  CHECK(series.other->throughput->in == 0.0);
  CHECK(series.folded == 0);
}

TEST_CASE("Throughput of IPs without active connections is summed into other") {
  const auto snapshot =
      WithIps({{"a", 1}}, NamedValues<InOut>{{"a", {1, 2}}, {"gone", {10, 20}}, {"left", {5, 5}}});
  const auto series =
      exporter::conversion::AggregateIps(snapshot, exporter::conversion::IpOptions{});
  REQUIRE(series.kept.size() == 1);
  CHECK(series.kept[0].name == "a");
  CHECK(series.kept[0].throughput->in == 1.0);
  CHECK(series.other->throughput->in == 15.0);
  CHECK(series.other->throughput->out == 25.0);
  CHECK(series.other->connections == 0.0);
  CHECK(series.folded == 2);
}

TEST_CASE("A real IP entry named other is merged into the folded other") {
  const auto snapshot = WithIps({{"other", 4}, {"a", 1}, {"b", 2}});
  const auto series =
      exporter::conversion::AggregateIps(snapshot, exporter::conversion::IpOptions{1});
  REQUIRE(series.kept.size() == 1);
  CHECK(series.kept[0].name == "b");
  CHECK(series.other->connections == 5.0);
  CHECK(series.folded == 1);
}

TEST_CASE("IPv4 and IPv6 addresses are reduced to their networks") {
  CHECK(exporter::conversion::IpNetwork("203.0.113.7", 24, 64) == "203.0.113.0/24");
  CHECK(exporter::conversion::IpNetwork("203.0.113.7", 32, 64) == "203.0.113.7/32");
  CHECK(exporter::conversion::IpNetwork("203.0.113.7", 0, 64) == "0.0.0.0/0");
  CHECK(exporter::conversion::IpNetwork("203.0.113.255", 20, 64) == "203.0.112.0/20");
  CHECK(exporter::conversion::IpNetwork("2001:db8::1", 24, 64) == "2001:db8::/64");
  CHECK(exporter::conversion::IpNetwork("2001:db8:aaaa:bbbb:cccc::1", 24, 56) ==
        "2001:db8:aaaa:bb00::/56");
  CHECK(exporter::conversion::IpNetwork("2001:db8::1", 24, 128) == "2001:db8::1/128");
  CHECK(exporter::conversion::IpNetwork("::ffff:198.51.100.9", 24, 64) == "198.51.100.0/24");
  CHECK_FALSE(exporter::conversion::IpNetwork("not-an-ip", 24, 64).has_value());
  CHECK_FALSE(exporter::conversion::IpNetwork("203.0.113.7:443", 24, 64).has_value());
  CHECK_FALSE(exporter::conversion::IpNetwork("", 24, 64).has_value());
  CHECK_FALSE(exporter::conversion::IpNetwork(std::string("1.2.3.4\0x", 9), 24, 64).has_value());
  CHECK_FALSE(exporter::conversion::IpNetwork(std::string(1000, '1'), 24, 64).has_value());
}

TEST_CASE("Anonymised IPs are summed per network before the top-N cut") {
  exporter::conversion::IpOptions options;
  options.anonymize = exporter::conversion::IpAnonymization::kPrefix;
  options.top = 2;
  const auto snapshot =
      WithIps({{"203.0.113.7", 1},
               {"203.0.113.8", 1},
               {"203.0.113.9", 1},
               {"198.51.100.1", 2},
               {"2001:db8::1", 1},
               {"2001:db8::2", 1},
               {"2001:db8:0:1::2", 1},
               {"bogus", 7},
               {"also bogus", 1}},
              NamedValues<InOut>{
                  {"203.0.113.7", {1, 1}}, {"203.0.113.200", {2, 2}}, {"2001:db8::5", {4, 4}}});
  const auto series = exporter::conversion::AggregateIps(snapshot, options);
  REQUIRE(series.kept.size() == 2);
  CHECK(series.kept[0].name == "203.0.113.0/24");
  CHECK(series.kept[0].connections == 3.0);
  CHECK(series.kept[0].throughput->in == 3.0);
  CHECK(series.kept[1].name == "invalid");
  CHECK(series.kept[1].connections == 8.0);
  // 198.51.100.0/24 (2) and 2001:db8::/64 (2) tie: the name decides, the loser folds.
  CHECK(series.other->connections == 2.0 + 2.0 + 1.0);
  CHECK(series.other->throughput->in == 4.0);
  CHECK(series.folded == 3);
}

TEST_CASE("Routes beyond the maximum fold into other, throughput consistently") {
  proxy_client::Snapshot snapshot;
  snapshot.connections.by_route = NamedValues<double>{{"a", 10}, {"b", 1}, {"c", 3}, {"d", 3}};
  snapshot.throughput.emplace();
  snapshot.throughput->by_route =
      NamedValues<InOut>{{"a", {1, 1}}, {"b", {2, 2}}, {"d", {4, 4}}, {"idle", {8, 8}}};
  SUBCASE("max 2") {
    const auto series =
        exporter::conversion::AggregateRoutes(snapshot, exporter::conversion::RouteOptions{2});
    REQUIRE(series.kept.size() == 2);
    CHECK(series.kept[0].name == "a");
    CHECK(series.kept[1].name == "c");  // ties with d on 3: the name decides
    CHECK_FALSE(series.kept[1].throughput.has_value());
    CHECK(series.other->connections == 1.0 + 3.0);
    CHECK(series.other->throughput->in == 2.0 + 4.0 + 8.0);
    CHECK(series.folded == 3);
  }
  SUBCASE("max large: no other, routes only in throughput kept without connections") {
    const auto series =
        exporter::conversion::AggregateRoutes(snapshot, exporter::conversion::RouteOptions{});
    CHECK(series.kept.size() == 5);
    CHECK_FALSE(series.other.has_value());
    CHECK(series.kept.back().name == "idle");
    CHECK_FALSE(series.kept.back().connections.has_value());
    CHECK(series.folded == 0);
  }
  SUBCASE("max 0 folds every route") {
    const auto series =
        exporter::conversion::AggregateRoutes(snapshot, exporter::conversion::RouteOptions{0});
    CHECK(series.kept.empty());
    CHECK(series.other->connections == 17.0);
    CHECK(series.folded == 5);
  }
}

TEST_CASE("A route really named other is merged with folded routes, and alone stays one route") {
  proxy_client::Snapshot snapshot;
  snapshot.connections.by_route = NamedValues<double>{{"other", 5}, {"a", 1}, {"b", 2}};
  auto series =
      exporter::conversion::AggregateRoutes(snapshot, exporter::conversion::RouteOptions{1});
  REQUIRE(series.kept.size() == 1);
  CHECK(series.other->connections == 6.0);
  series = exporter::conversion::AggregateRoutes(snapshot, exporter::conversion::RouteOptions{});
  CHECK(series.kept.size() == 2);
  CHECK(series.other->connections == 5.0);
  CHECK(series.folded == 0);
}

TEST_CASE("IPs the proxy left out under ?ips=N are folded into other, so the sums still hold") {
  // The proxy has 5 IPs with 3+2+1+1+1 connections and 10+5+1+1+1 bytes/s in, 1 each out; it
  // listed its top 2 (?ips=2).
  proxy_client::Snapshot snapshot =
      WithIps({{"10.0.0.1", 3}, {"10.0.0.2", 2}},
              NamedValues<InOut>{{"10.0.0.1", {10, 1}}, {"10.0.0.2", {5, 1}}});
  snapshot.connections.active = 8;
  snapshot.connections.distinct_ips = 5;
  snapshot.throughput->instant = InOut{18, 5};
  exporter::conversion::IpOptions options;
  options.top = 2;
  const auto series = exporter::conversion::AggregateIps(snapshot, options);
  REQUIRE(series.kept.size() == 2);
  REQUIRE(series.other.has_value());
  CHECK(series.folded == 3);
  CHECK(series.other->connections == 3);
  CHECK(series.other->throughput->in == 3);
  CHECK(series.other->throughput->out == 3);
  CHECK(SumConnections(series) == 8);
  CHECK(SumThroughput(series).in == 18);
  CHECK(SumThroughput(series).out == 5);

  SUBCASE("a proxy that listed every IP adds nothing") {
    snapshot.connections.distinct_ips = 2;
    snapshot.connections.active = 5;
    const auto complete = exporter::conversion::AggregateIps(snapshot, options);
    CHECK(complete.folded == 0);
    CHECK(complete.other->connections == 0);
  }
}

TEST_CASE("An absurd distinctIPs is clamped, never an out-of-range conversion") {
  // Found by fuzz/fuzz_conversion (fuzz/regressions/fuzz_conversion/distinct_ips_1e308.bin).
  proxy_client::Snapshot snapshot = WithIps({{"10.0.0.1", 3}});
  snapshot.connections.active = 3;
  snapshot.connections.distinct_ips = 1e308;
  exporter::conversion::IpOptions options;
  const auto series = exporter::conversion::AggregateIps(snapshot, options);
  CHECK(series.folded == static_cast<std::size_t>(1e15));
  CHECK(SumConnections(series) == 3);
}

TEST_CASE("Networks grouped at the source equal the exporter's own grouping of the same IPs") {
  exporter::conversion::IpOptions options;
  options.anonymize = exporter::conversion::IpAnonymization::kPrefix;
  options.top = 2;
  // What a grouping source sends for the IPs of the test above, cut to the top 2 networks
  // (of 5: 203.0.113.0/24, invalid, 198.51.100.0/24, 2001:db8::/64, 2001:db8:0:1::/64).
  auto grouped = WithIps({{"203.0.113.0/24", 3}, {"invalid", 8}},
                         NamedValues<InOut>{{"203.0.113.0/24", {3, 3}}});
  grouped.connections.active = 3 + 8 + 2 + 2 + 1;
  grouped.connections.distinct_ips = 9;
  grouped.connections.distinct_networks = 5;
  grouped.connections.ip_grouping = proxy_client::IpGrouping{24, 64};
  grouped.throughput->instant = InOut{7, 7};
  const auto series = exporter::conversion::AggregateIps(grouped, options);
  REQUIRE(series.kept.size() == 2);
  CHECK(series.kept[0].name == "203.0.113.0/24");
  CHECK(series.kept[0].connections == 3.0);
  CHECK(series.kept[1].name == "invalid");
  CHECK(series.kept[1].connections == 8.0);
  // The same "other" and the same folded count as when the exporter grouped every IP itself.
  CHECK(series.other->connections == 5.0);
  CHECK(series.other->throughput->in == 4.0);
  CHECK(series.folded == 3);
}

TEST_CASE("A key from a grouping source that is no network as the exporter writes it is invalid") {
  exporter::conversion::IpOptions options;
  options.anonymize = exporter::conversion::IpAnonymization::kPrefix;
  options.top = 10;
  auto snapshot = WithIps({{"203.0.113.7", 1},            // a full address: never a label
                           {"203.0.113.0/16", 1},         // another prefix
                           {"203.0.113.1/24", 1},         // host bits set
                           {"2001:DB8::/64", 1},          // not inet_ntop's form
                           {"::ffff:203.0.113.0/24", 1},  // mapped: sent as IPv4
                           {"2001:db8::/64", 2},
                           {"198.51.100.0/24", 3}});
  snapshot.connections.ip_grouping = proxy_client::IpGrouping{24, 64};
  const auto series = exporter::conversion::AggregateIps(snapshot, options);
  REQUIRE(series.kept.size() == 3);
  CHECK(series.kept[0].name == "invalid");
  CHECK(series.kept[0].connections == 5.0);
  // Kept in the order of appearance.
  CHECK(series.kept[1].name == "2001:db8::/64");
  CHECK(series.kept[2].name == "198.51.100.0/24");
  // Grouped with other prefixes than configured: the keys are not trusted as networks.
  snapshot.connections.ip_grouping = proxy_client::IpGrouping{16, 64};
  const auto regrouped = exporter::conversion::AggregateIps(snapshot, options);
  for (const auto& entry : regrouped.kept) CHECK(entry.name != "203.0.113.7");
}

TEST_CASE("A list of exactly top IPs without distinctIPs may be cut: other gets the rest") {
  exporter::conversion::IpOptions options;
  options.top = 2;
  // SmartProxy's topIPs(2) path: the two busiest, no count of the others.
  auto snapshot = WithIps({{"192.0.2.1", 5}, {"192.0.2.2", 4}},
                          NamedValues<InOut>{{"192.0.2.1", {10, 20}}, {"192.0.2.2", {1, 2}}});
  snapshot.connections.active = 12;
  snapshot.throughput->instant = InOut{15, 30};
  const auto series = exporter::conversion::AggregateIps(snapshot, options);
  CHECK(SumConnections(series) == 12.0);
  CHECK(series.other->connections == 3.0);
  CHECK(series.other->throughput->in == 4.0);
  CHECK(series.other->throughput->out == 8.0);
  CHECK(series.folded == 0);  // how many IPs the 3 connections are is unknown
  CHECK_FALSE(exporter::conversion::DistinctClientIps(snapshot, options).has_value());
  // Fewer than top: that is every IP.
  options.top = 3;
  CHECK(exporter::conversion::DistinctClientIps(snapshot, options) == 2.0);
  CHECK(exporter::conversion::AggregateIps(snapshot, options).other->connections == 0.0);
  // ?ips=0 leaves nothing listed: the count is unknown, not 0.
  options.top = 0;
  auto none = WithIps({});
  none.connections.active = 12;
  CHECK_FALSE(exporter::conversion::DistinctClientIps(none, options).has_value());
  // With distinctIPs, it is the count.
  snapshot.connections.distinct_ips = 40;
  options.top = 2;
  CHECK(exporter::conversion::DistinctClientIps(snapshot, options) == 40.0);
  CHECK(exporter::conversion::AggregateIps(snapshot, options).folded == 38);
}
