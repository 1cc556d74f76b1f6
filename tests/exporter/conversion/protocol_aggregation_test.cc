#include "exporter/conversion/protocol_aggregation.h"

#include <doctest/doctest.h>

#include <string>

TEST_CASE("Protocols beyond the fixed cap per side fold into other, by total then name") {
  proxy_client::NamedValues<proxy_client::ProtocolConnections> side;
  double active = 0;
  double total = 0;
  // p0..p24 with totals 0..24: the five smallest (p0..p4) are folded.
  for (int i = 0; i < 25; ++i) {
    side.emplace_back("p" + std::to_string(i), proxy_client::ProtocolConnections{1.0 * i, 1.0 * i});
    if (i < 5) {
      active += i;
      total += i;
    }
  }
  const auto folded = exporter::conversion::AggregateProtocols(side);
  REQUIRE(folded.kept.size() == exporter::conversion::kProtocolsPerSide);
  CHECK(folded.kept.front().name == "p5");
  CHECK(folded.kept.back().name == "p24");
  CHECK(folded.folded == 5);
  REQUIRE(folded.other.has_value());
  CHECK(*folded.other->active == active);
  CHECK(*folded.other->total == total);
}

TEST_CASE("Protocols within the cap are kept as they are, without other") {
  const proxy_client::NamedValues<proxy_client::ProtocolConnections> side{
      {"h2", {3, 10}}, {"h1", {std::nullopt, 4}}, {"ws", {1, std::nullopt}}};
  const auto folded = exporter::conversion::AggregateProtocols(side);
  REQUIRE(folded.kept.size() == 3);
  CHECK(folded.kept[1].name == "h1");
  CHECK_FALSE(folded.kept[1].value.active.has_value());
  CHECK_FALSE(folded.other.has_value());
  CHECK(folded.folded == 0);
}
