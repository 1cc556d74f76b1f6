// The groups protocol 1.1 adds (docs/snapshot-protocol.md): adapter, openConnectionBytes,
// backends, protocols, udp and requests.byDomain.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proxy_client/snapshot_parser.h"

using proxy_client::ParseSnapshot;
using proxy_client::Snapshot;

namespace {

std::string Minimal(const std::string& extra = "") {
  return R"({"schemaVersion":1,"timestamp":1764043200123,"connections":{"active":2,"total":7})" +
         extra + "}";
}

Snapshot Parsed(const std::string& json) {
  auto result = ParseSnapshot(json);
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  return std::move(result.value());
}

std::string ErrorOf(const std::string& json) {
  auto result = ParseSnapshot(json);
  REQUIRE_MESSAGE(!result.has_value(), "expected a parse error for: " << json);
  return result.error().message;
}

// A member of a 1.1 group: its JSON path, and a document that sets it.
struct Member {
  std::string path;
  std::string json;
};

// Every 1.1 counter, each in a document that sets it to `value`.
std::vector<Member> CountersSetTo(const std::string& value) {
  return {
      {R"(backends["b1"].total)", Minimal(R"(,"backends":{"b1":{"total":)" + value + "}}")},
      {R"(backends["b1"].connectErrors)",
       Minimal(R"(,"backends":{"b1":{"connectErrors":)" + value + "}}")},
      {R"(backends["b1"].handshakeErrors)",
       Minimal(R"(,"backends":{"b1":{"handshakeErrors":)" + value + "}}")},
      {R"(backends["b1"].requestErrors)",
       Minimal(R"(,"backends":{"b1":{"requestErrors":)" + value + "}}")},
      {R"(backends["b1"].poolHits)", Minimal(R"(,"backends":{"b1":{"poolHits":)" + value + "}}")},
      {R"(backends["b1"].poolMisses)",
       Minimal(R"(,"backends":{"b1":{"poolMisses":)" + value + "}}")},
      {R"(protocols.frontend["h2"].total)",
       Minimal(R"(,"protocols":{"frontend":{"h2":{"total":)" + value + "}}}")},
      {R"(protocols.backend["h1"].total)",
       Minimal(R"(,"protocols":{"backend":{"h1":{"total":)" + value + "}}}")},
      {"udp.totalSessions", Minimal(R"(,"udp":{"totalSessions":)" + value + "}")},
      {"udp.datagramsIn", Minimal(R"(,"udp":{"datagramsIn":)" + value + "}")},
      {"udp.datagramsOut", Minimal(R"(,"udp":{"datagramsOut":)" + value + "}")},
  };
}

// Every 1.1 gauge, each in a document that sets it to `value`.
std::vector<Member> GaugesSetTo(const std::string& value) {
  return {
      {"adapter.skipped", Minimal(R"(,"adapter":{"skipped":)" + value + "}")},
      {"openConnectionBytes.in", Minimal(R"(,"openConnectionBytes":{"out":1,"in":)" + value + "}")},
      {"openConnectionBytes.out",
       Minimal(R"(,"openConnectionBytes":{"in":1,"out":)" + value + "}")},
      {R"(backends["b1"].active)", Minimal(R"(,"backends":{"b1":{"active":)" + value + "}}")},
      {R"(backends["b1"].connectTimeMs)",
       Minimal(R"(,"backends":{"b1":{"connectTimeMs":)" + value + "}}")},
      {R"(protocols.frontend["h2"].active)",
       Minimal(R"(,"protocols":{"frontend":{"h2":{"active":)" + value + "}}}")},
      {R"(protocols.backend["h1"].active)",
       Minimal(R"(,"protocols":{"backend":{"h1":{"active":)" + value + "}}}")},
      {"udp.activeSessions", Minimal(R"(,"udp":{"activeSessions":)" + value + "}")},
      {R"(requests.byDomain["d.example"].perSecond)",
       Minimal(R"(,"requests":{"byDomain":{"d.example":{"perSecond":)" + value + "}}}")},
      {R"(requests.byDomain["d.example"].perMinute)",
       Minimal(R"(,"requests":{"byDomain":{"d.example":{"perMinute":)" + value + "}}}")},
  };
}

}  // namespace

TEST_CASE("Parser reads the adapter group") {
  const Snapshot s = Parsed(Minimal(
      R"(,"adapter":{"name":"smartproxy-snapshot-adapter","version":"0.2.0","api":"IProxyStats","skipped":3})"));
  REQUIRE(s.adapter.has_value());
  CHECK(s.adapter->name == "smartproxy-snapshot-adapter");
  CHECK(s.adapter->version == "0.2.0");
  CHECK(s.adapter->api == "IProxyStats");
  CHECK(s.adapter->skipped == 3);
  SUBCASE("every member is optional, and any api string is accepted") {
    const Snapshot partial = Parsed(Minimal(R"(,"adapter":{"api":"SomethingNew"})"));
    REQUIRE(partial.adapter.has_value());
    CHECK(partial.adapter->api == "SomethingNew");
    CHECK_FALSE(partial.adapter->name.has_value());
    CHECK_FALSE(partial.adapter->version.has_value());
    CHECK_FALSE(partial.adapter->skipped.has_value());
    const Snapshot empty = Parsed(Minimal(R"(,"adapter":{})"));
    REQUIRE(empty.adapter.has_value());
    CHECK_FALSE(empty.adapter->api.has_value());
  }
  SUBCASE("wrong types name the path") {
    CHECK(ErrorOf(Minimal(R"(,"adapter":[])")) == "adapter: expected an object, got an array");
    CHECK(ErrorOf(Minimal(R"(,"adapter":{"name":7})")) == "adapter.name: expected a string, got 7");
    CHECK(ErrorOf(Minimal(R"(,"adapter":{"version":1.5})")) ==
          "adapter.version: expected a string, got 1.5");
    CHECK(ErrorOf(Minimal(R"(,"adapter":{"api":null})")) ==
          "adapter.api: expected a string, got null");
    CHECK(ErrorOf(Minimal(R"(,"adapter":{"skipped":"2"})")) ==
          R"(adapter.skipped: expected a non-negative number, got "2")");
  }
}

TEST_CASE("Parser reads openConnectionBytes, which needs both members") {
  const Snapshot s = Parsed(Minimal(R"(,"openConnectionBytes":{"in":1234,"out":5678.5})"));
  REQUIRE(s.open_connection_bytes.has_value());
  CHECK(s.open_connection_bytes->in == 1234);
  CHECK(s.open_connection_bytes->out == 5678.5);
  CHECK_FALSE(s.bytes.has_value());
  CHECK(ErrorOf(Minimal(R"(,"openConnectionBytes":{"in":1})")) ==
        "openConnectionBytes.out: required field is missing");
  CHECK(ErrorOf(Minimal(R"(,"openConnectionBytes":{"out":1})")) ==
        "openConnectionBytes.in: required field is missing");
  CHECK(ErrorOf(Minimal(R"(,"openConnectionBytes":5)")) ==
        "openConnectionBytes: expected an object, got 5");
  SUBCASE("a gauge: beyond 2^53 is accepted as it is") {
    const Snapshot large = Parsed(Minimal(R"(,"openConnectionBytes":{"in":1e20,"out":0})"));
    CHECK(large.open_connection_bytes->in == 1e20);
  }
}

TEST_CASE("Parser reads every member of a backend, each one optional") {
  const Snapshot s = Parsed(Minimal(
      R"(,"backends":{"10.0.0.5:8080":{"protocol":"h2","active":3,"total":120,"connectErrors":1,"handshakeErrors":0,"requestErrors":2,"connectTimeMs":4.5,"poolHits":100,"poolMisses":20},"idle":{}})"));
  REQUIRE(s.backends.has_value());
  REQUIRE(s.backends->size() == 2);
  const auto& [name, backend] = (*s.backends)[0];
  CHECK(name == "10.0.0.5:8080");
  CHECK(backend.protocol == "h2");
  CHECK(backend.active == 3);
  CHECK(backend.total == 120);
  CHECK(backend.connect_errors == 1);
  CHECK(backend.handshake_errors == 0);
  CHECK(backend.request_errors == 2);
  CHECK(backend.connect_time_ms == 4.5);
  CHECK(backend.pool_hits == 100);
  CHECK(backend.pool_misses == 20);
  const auto& [idle_name, idle] = (*s.backends)[1];
  CHECK(idle_name == "idle");
  CHECK_FALSE(idle.protocol.has_value());
  CHECK_FALSE(idle.active.has_value());
  CHECK_FALSE(idle.total.has_value());
  CHECK_FALSE(idle.connect_errors.has_value());
  CHECK_FALSE(idle.handshake_errors.has_value());
  CHECK_FALSE(idle.request_errors.has_value());
  CHECK_FALSE(idle.connect_time_ms.has_value());
  CHECK_FALSE(idle.pool_hits.has_value());
  CHECK_FALSE(idle.pool_misses.has_value());
  SUBCASE("an empty map is present and empty") {
    const Snapshot empty = Parsed(Minimal(R"(,"backends":{})"));
    REQUIRE(empty.backends.has_value());
    CHECK(empty.backends->empty());
  }
  SUBCASE("wrong types name the path") {
    CHECK(ErrorOf(Minimal(R"(,"backends":{"b1":{"protocol":2}})")) ==
          R"(backends["b1"].protocol: expected a string, got 2)");
    CHECK(ErrorOf(Minimal(R"(,"backends":{"b1":{"connectTimeMs":"x"}})")) ==
          R"(backends["b1"].connectTimeMs: expected a non-negative number, got "x")");
    CHECK(ErrorOf(Minimal(R"(,"backends":{"b1":{"connectErrors":"x"}})")) ==
          R"(backends["b1"].connectErrors: expected a non-negative integer counter, got "x")");
    CHECK(ErrorOf(Minimal(R"(,"backends":{"b1":3})")) ==
          R"(backends["b1"]: expected an object, got 3)");
    CHECK(ErrorOf(Minimal(R"(,"backends":"b1")")) == R"(backends: expected an object, got "b1")");
  }
}

TEST_CASE("Parser reads frontend and backend protocols, each side optional") {
  const Snapshot s = Parsed(Minimal(
      R"(,"protocols":{"frontend":{"h1":{"active":2,"total":6},"h2":{"total":10}},"backend":{"h2":{"active":1}}})"));
  REQUIRE(s.protocols.has_value());
  REQUIRE(s.protocols->frontend->size() == 2);
  CHECK((*s.protocols->frontend)[0].first == "h1");
  CHECK((*s.protocols->frontend)[0].second.active == 2);
  CHECK((*s.protocols->frontend)[0].second.total == 6);
  CHECK((*s.protocols->frontend)[1].first == "h2");
  CHECK_FALSE((*s.protocols->frontend)[1].second.active.has_value());
  CHECK((*s.protocols->frontend)[1].second.total == 10);
  REQUIRE(s.protocols->backend->size() == 1);
  CHECK((*s.protocols->backend)[0].second.active == 1);
  CHECK_FALSE((*s.protocols->backend)[0].second.total.has_value());
  SUBCASE("one side alone") {
    const Snapshot backend_only = Parsed(Minimal(R"(,"protocols":{"backend":{}})"));
    CHECK_FALSE(backend_only.protocols->frontend.has_value());
    REQUIRE(backend_only.protocols->backend.has_value());
    CHECK(backend_only.protocols->backend->empty());
    const Snapshot neither = Parsed(Minimal(R"(,"protocols":{})"));
    REQUIRE(neither.protocols.has_value());
    CHECK_FALSE(neither.protocols->frontend.has_value());
    CHECK_FALSE(neither.protocols->backend.has_value());
  }
  SUBCASE("wrong types name the path") {
    CHECK(ErrorOf(Minimal(R"(,"protocols":[])")) == "protocols: expected an object, got an array");
    CHECK(ErrorOf(Minimal(R"(,"protocols":{"backend":1})")) ==
          "protocols.backend: expected an object, got 1");
    CHECK(ErrorOf(Minimal(R"(,"protocols":{"frontend":{"h2":true}})")) ==
          R"(protocols.frontend["h2"]: expected an object, got true)");
    CHECK(ErrorOf(Minimal(R"(,"protocols":{"frontend":{"h2":{"active":"3"}}})")) ==
          R"(protocols.frontend["h2"].active: expected a non-negative number, got "3")");
  }
}

TEST_CASE("Parser reads the udp group, every member optional") {
  const Snapshot s = Parsed(Minimal(
      R"(,"udp":{"activeSessions":2,"totalSessions":50,"datagramsIn":1000,"datagramsOut":990})"));
  REQUIRE(s.udp.has_value());
  CHECK(s.udp->active_sessions == 2);
  CHECK(s.udp->total_sessions == 50);
  CHECK(s.udp->datagrams_in == 1000);
  CHECK(s.udp->datagrams_out == 990);
  const Snapshot partial = Parsed(Minimal(R"(,"udp":{"datagramsOut":1})"));
  REQUIRE(partial.udp.has_value());
  CHECK_FALSE(partial.udp->active_sessions.has_value());
  CHECK_FALSE(partial.udp->total_sessions.has_value());
  CHECK_FALSE(partial.udp->datagrams_in.has_value());
  CHECK(partial.udp->datagrams_out == 1);
  CHECK(ErrorOf(Minimal(R"(,"udp":null)")) == "udp: expected an object, got null");
  CHECK(ErrorOf(Minimal(R"(,"udp":{"activeSessions":[2]})")) ==
        "udp.activeSessions: expected a non-negative number, got an array");
}

TEST_CASE("Parser reads requests.byDomain beside the other request fields") {
  const Snapshot s = Parsed(Minimal(
      R"(,"requests":{"total":9,"byDomain":{"example.com":{"perSecond":3,"perMinute":120},"b.example":{"perMinute":6}},"perMinute":60})"));
  REQUIRE(s.requests.has_value());
  CHECK(s.requests->total == 9);
  CHECK(s.requests->per_minute == 60);
  CHECK_FALSE(s.requests->per_second.has_value());
  REQUIRE(s.requests->by_domain.has_value());
  REQUIRE(s.requests->by_domain->size() == 2);
  CHECK((*s.requests->by_domain)[0].first == "example.com");
  CHECK((*s.requests->by_domain)[0].second.per_second == 3);
  CHECK((*s.requests->by_domain)[0].second.per_minute == 120);
  CHECK((*s.requests->by_domain)[1].first == "b.example");
  CHECK_FALSE((*s.requests->by_domain)[1].second.per_second.has_value());
  CHECK((*s.requests->by_domain)[1].second.per_minute == 6);
  SUBCASE("absent unless given") {
    CHECK_FALSE(Parsed(Minimal(R"(,"requests":{"total":1})")).requests->by_domain.has_value());
  }
  SUBCASE("wrong types name the path") {
    CHECK(ErrorOf(Minimal(R"(,"requests":{"byDomain":[]})")) ==
          "requests.byDomain: expected an object, got an array");
    CHECK(ErrorOf(Minimal(R"(,"requests":{"byDomain":{"a\"b":7}})")) ==
          R"(requests.byDomain["a\"b"]: expected an object, got 7)");
  }
}

TEST_CASE("Parser rejects negative and non-numeric values in every new gauge") {
  for (const Member& member : GaugesSetTo("-1")) {
    CAPTURE(member.path);
    CHECK(ErrorOf(member.json) == member.path + ": expected a non-negative number, got -1");
  }
  for (const Member& member : GaugesSetTo("\"x\"")) {
    CAPTURE(member.path);
    CHECK(ErrorOf(member.json) == member.path + R"(: expected a non-negative number, got "x")");
  }
  for (const Member& member : GaugesSetTo("0.25")) {
    CAPTURE(member.path);
    auto result = ParseSnapshot(member.json);
    CHECK_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  }
}

TEST_CASE("Parser checks every new counter: non-negative, no larger than 2^53") {
  for (const Member& member : CountersSetTo("-1")) {
    CAPTURE(member.path);
    CHECK(ErrorOf(member.json) ==
          member.path + ": expected a non-negative integer counter, got -1");
  }
  for (const Member& member : CountersSetTo("9007199254740993")) {
    CAPTURE(member.path);
    CHECK(ErrorOf(member.json) ==
          member.path + ": expected a counter no larger than 2^53, got 9007199254740993");
  }
  for (const Member& member : CountersSetTo("1e300")) {
    CAPTURE(member.path);
    CHECK(ErrorOf(member.json) ==
          member.path + ": expected a counter no larger than 2^53, got 1.0000000000000001e+300");
  }
  for (const Member& member : CountersSetTo("false")) {
    CAPTURE(member.path);
    CHECK(ErrorOf(member.json) ==
          member.path + ": expected a non-negative integer counter, got false");
  }
  for (const Member& member : CountersSetTo("9007199254740992")) {
    CAPTURE(member.path);
    auto result = ParseSnapshot(member.json);
    CHECK_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  }
}

TEST_CASE(
    "Parser keeps a repeated name in the new maps once, with the later value, in first "
    "position") {
  const Snapshot s = Parsed(
      Minimal(R"(,"backends":{"a":{"protocol":"h1","total":1},"b":{"total":2},"a":{"total":3}},)"
              R"("protocols":{"frontend":{"h2":{"active":1},"h1":{"active":2},"h2":{"total":9}}},)"
              R"("requests":{"byDomain":{"d":{"perSecond":1},"e":{},"d":{"perMinute":4}}})"));
  REQUIRE(s.backends->size() == 2);
  CHECK((*s.backends)[0].first == "a");
  CHECK((*s.backends)[0].second.total == 3);
  // The later value replaces the whole entry; members are not merged.
  CHECK_FALSE((*s.backends)[0].second.protocol.has_value());
  CHECK((*s.backends)[1].first == "b");
  REQUIRE(s.protocols->frontend->size() == 2);
  CHECK((*s.protocols->frontend)[0].first == "h2");
  CHECK((*s.protocols->frontend)[0].second.total == 9);
  CHECK_FALSE((*s.protocols->frontend)[0].second.active.has_value());
  REQUIRE(s.requests->by_domain->size() == 2);
  CHECK((*s.requests->by_domain)[0].first == "d");
  CHECK((*s.requests->by_domain)[0].second.per_minute == 4);
  CHECK_FALSE((*s.requests->by_domain)[0].second.per_second.has_value());
  SUBCASE("a repeated group or member takes the later value") {
    const Snapshot twice = Parsed(Minimal(
        R"(,"udp":{"datagramsIn":1},"udp":{"datagramsOut":2},"backends":{"x":{"total":1,"total":5}})"));
    CHECK_FALSE(twice.udp->datagrams_in.has_value());
    CHECK(twice.udp->datagrams_out == 2);
    CHECK((*twice.backends)[0].second.total == 5);
  }
}

TEST_CASE("Parser reads a large backends map with hostile names") {
  std::string backends = R"(,"backends":{"a\"b\n":{"total":1},"":{"total":2},"café 日本":{})";
  for (int i = 0; i < 3000; ++i) {
    backends += ",\"backend-" + std::to_string(i % 2000) + "\":{\"total\":" + std::to_string(i) +
                ",\"protocol\":\"h" + std::to_string(i % 3) + "\"}";
  }
  backends += "}";
  const Snapshot s = Parsed(Minimal(backends));
  REQUIRE(s.backends->size() == 3 + 2000);
  CHECK((*s.backends)[0].first == "a\"b\n");
  CHECK((*s.backends)[1].first.empty());
  CHECK((*s.backends)[2].first == "café 日本");
  CHECK((*s.backends)[3].first == "backend-0");
  CHECK((*s.backends)[3].second.total == 2000);  // the later of backend-0's two entries
  CHECK((*s.backends)[3].second.protocol == "h2");
  CHECK((*s.backends)[3 + 1999].second.total == 1999);
}

namespace {

std::string WithConnections(const std::string& extra) {
  return R"({"schemaVersion":1,"timestamp":1764043200123,"connections":{"active":2,"total":7,)" +
         extra + "}}";
}

}  // namespace

TEST_CASE("connections.ipGrouping and distinctNetworks say how a source grouped the IPs") {
  const Snapshot grouped =
      Parsed(WithConnections(R"("byIP":{"203.0.113.0/24":2},"distinctIPs":5,"distinctNetworks":3,)"
                             R"("ipGrouping":{"ipv4Prefix":24,"ipv6Prefix":64,"future":true})"));
  REQUIRE(grouped.connections.ip_grouping.has_value());
  CHECK(grouped.connections.ip_grouping->ipv4_prefix == 24);
  CHECK(grouped.connections.ip_grouping->ipv6_prefix == 64);
  CHECK(grouped.connections.distinct_networks == 3.0);
  CHECK(grouped.connections.distinct_ips == 5.0);
  const Snapshot edges =
      Parsed(WithConnections(R"("ipGrouping":{"ipv6Prefix":128,"ipv4Prefix":0})"));
  CHECK(edges.connections.ip_grouping == proxy_client::IpGrouping{0, 128});
  const Snapshot plain = Parsed(Minimal());
  CHECK_FALSE(plain.connections.ip_grouping.has_value());
  CHECK_FALSE(plain.connections.distinct_networks.has_value());
}

TEST_CASE("A malformed ipGrouping is refused, naming the member") {
  const auto error = [](const std::string& grouping) {
    return ErrorOf(WithConnections(R"("ipGrouping":)" + grouping));
  };
  CHECK(error(R"({"ipv4Prefix":33,"ipv6Prefix":64})").find("connections.ipGrouping.ipv4Prefix") !=
        std::string::npos);
  CHECK(error(R"({"ipv4Prefix":24,"ipv6Prefix":129})").find("connections.ipGrouping.ipv6Prefix") !=
        std::string::npos);
  CHECK(error(R"({"ipv4Prefix":24.5,"ipv6Prefix":64})").find("integer prefix length") !=
        std::string::npos);
  CHECK(error(R"({"ipv4Prefix":"24","ipv6Prefix":64})").find("ipv4Prefix") != std::string::npos);
  CHECK(error(R"({"ipv4Prefix":-1,"ipv6Prefix":64})").find("ipv4Prefix") != std::string::npos);
  CHECK(error(R"({"ipv4Prefix":24})").find("ipv6Prefix") != std::string::npos);
  CHECK(error(R"({"ipv6Prefix":64})").find("ipv4Prefix") != std::string::npos);
  CHECK(error("[24,64]").find("connections.ipGrouping") != std::string::npos);
  CHECK(ErrorOf(WithConnections(R"("distinctNetworks":-2)")).find("distinctNetworks") !=
        std::string::npos);
}
