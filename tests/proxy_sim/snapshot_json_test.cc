#include "proxy_sim/snapshot_json.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include "json_checker.h"

namespace proxy_sim {
namespace {

using proxy_sim_test::JsonChecker;
using proxy_sim_test::JsonValue;

JsonValue ParseOrFail(std::string_view text, JsonChecker& checker) {
  auto value = checker.Parse(text);
  INFO("JSON error: " << checker.error());
  REQUIRE(value.has_value());
  return std::move(*value);
}

double Sum(const JsonValue& object) {
  double sum = 0;
  for (const JsonValue& v : object.items) sum += v.number;
  return sum;
}

double SumMember(const JsonValue& object, std::string_view member) {
  double sum = 0;
  for (const JsonValue& v : object.items) sum += v[member].number;
  return sum;
}

SimulationOptions Options(std::size_t routes, std::size_t ips,
                          Generation generation = Generation::k27) {
  SimulationOptions options;
  options.routes = routes;
  options.ips = ips;
  options.seed = 3;
  options.generation = generation;
  return options;
}

bool IsInteger(const JsonValue& value) {
  return value.kind == JsonValue::Kind::kNumber &&
         value.text.find_first_not_of("0123456789") == std::string::npos;
}

// The members every generation serves: schemaVersion, timestamp, adapter, proxy, connections.
void CheckCommonMembers(const JsonValue& doc, const Simulation& simulation, std::string_view api,
                        std::string_view proxy_version) {
  const SimulationState& s = simulation.state();
  CHECK(doc["schemaVersion"].text == "1");
  CHECK(doc["timestamp"].text == std::to_string(s.timestamp_ms));
  const JsonValue& adapter = doc["adapter"];
  CHECK(adapter.keys == std::vector<std::string>{"name", "version", "api", "skipped"});
  CHECK(adapter["name"].text == "proxy-sim");
  CHECK(adapter["version"].text == ProxySimVersion());
  CHECK_FALSE(ProxySimVersion().empty());
  CHECK(adapter["api"].text == api);
  CHECK(adapter["skipped"].text == "0");
  CHECK(doc["proxy"]["name"].text == "smartproxy");
  CHECK(doc["proxy"]["version"].text == proxy_version);
  CHECK(doc["proxy"]["instance"].text == s.instance);
  CHECK(doc["proxy"]["startTime"].number == static_cast<double>(s.start_time_ms));
  const JsonValue& connections = doc["connections"];
  CHECK(connections["active"].text == std::to_string(s.connections_active));
  CHECK(connections["total"].text == std::to_string(s.connections_total));
  CHECK(connections["byRoute"].keys == simulation.route_names(false));
  CHECK(Sum(connections["byRoute"]) == connections["active"].number);
  CHECK(Sum(connections["byIP"]) == connections["active"].number);
  CHECK(connections["distinctIPs"].number == static_cast<double>(s.ip_active.size()));
}

TEST_CASE("Snapshot JSON is valid and carries every protocol v1 field") {
  Simulation simulation(Options(5, 200));
  simulation.Advance();
  const std::string json = RenderSnapshot(simulation);
  JsonChecker checker;
  const JsonValue doc = ParseOrFail(json, checker);
  const SimulationState& s = simulation.state();

  CheckCommonMembers(doc, simulation, "IMetrics", "27.8.0");
  const JsonValue& connections = doc["connections"];
  CHECK(connections["byRoute"].keys.size() == 5);
  CHECK(connections["byIP"].keys.size() == 200);
  CHECK(doc["requests"]["total"].text == std::to_string(s.requests_total));
  CHECK(doc["requests"].Has("perSecond"));
  CHECK(doc["requests"].Has("perMinute"));
  CHECK(doc["bytes"]["in"].text == std::to_string(s.bytes_in));
  CHECK(doc["bytes"]["out"].text == std::to_string(s.bytes_out));
  const JsonValue& throughput = doc["throughput"];
  for (const char* window : {"instant", "recent", "average"}) {
    CHECK(throughput[window].Has("in"));
    CHECK(throughput[window].Has("out"));
  }
  CHECK(SumMember(throughput["byRoute"], "in") == throughput["instant"]["in"].number);
  CHECK(SumMember(throughput["byRoute"], "out") == throughput["instant"]["out"].number);
  CHECK(SumMember(throughput["byIP"], "in") == throughput["instant"]["in"].number);
  CHECK(SumMember(throughput["byIP"], "out") == throughput["instant"]["out"].number);
  CHECK(throughput["byIP"].keys == connections["byIP"].keys);
  const JsonValue& percentiles = doc["percentiles"];
  for (const char* q : {"p50", "p95", "p99"}) {
    CHECK(percentiles["connectionDurationMs"].Has(q));
    CHECK(percentiles["bytesTransferred"]["in"].Has(q));
    CHECK(percentiles["bytesTransferred"]["out"].Has(q));
  }
  // Counters are written as integers (rule 3), never with a fraction or exponent.
  for (const std::string& counter :
       {connections["total"].text, doc["bytes"]["in"].text, doc["requests"]["total"].text}) {
    CHECK(counter.find_first_not_of("0123456789") == std::string::npos);
  }
}

TEST_CASE("Snapshot of generation 27 carries every protocol 1.1 group, consistent with the rest") {
  SimulationOptions options = Options(5, 200);
  options.backends = 9;  // the 6 listed names and 3 numbered ones
  options.domains = 12;
  Simulation simulation(options);
  JsonChecker checker;
  for (int step = 0; step < 30; ++step, simulation.Advance()) {
    CAPTURE(step);
    const JsonValue doc = ParseOrFail(RenderSnapshot(simulation), checker);
    const SimulationState& s = simulation.state();
    CHECK(doc.keys == std::vector<std::string>{"schemaVersion", "timestamp", "adapter", "proxy",
                                               "connections", "requests", "bytes", "throughput",
                                               "percentiles", "backends", "protocols", "udp"});
    CheckCommonMembers(doc, simulation, "IMetrics", "27.8.0");

    const JsonValue& backends = doc["backends"];
    REQUIRE(backends.keys == simulation.backend_names(false));
    CHECK(backends.keys[0] == "api-1.internal:8443");
    CHECK(backends.keys[8] == "backend-8.internal:8080");
    double backend_active = 0;
    for (std::size_t b = 0; b < backends.items.size(); ++b) {
      const JsonValue& backend = backends.items[b];
      CHECK(backend.keys == std::vector<std::string>{"protocol", "active", "total", "connectErrors",
                                                     "handshakeErrors", "requestErrors",
                                                     "connectTimeMs", "poolHits", "poolMisses"});
      CHECK(backend["protocol"].text == simulation.protocol_of_backend()[b]);
      for (const char* counter : {"active", "total", "connectErrors", "handshakeErrors",
                                  "requestErrors", "poolHits", "poolMisses"}) {
        CAPTURE(counter);
        CHECK(IsInteger(backend[counter]));
      }
      CHECK(backend["total"].number >= backend["active"].number);
      CHECK(backend["connectTimeMs"].number > 0);
      CHECK(backend["connectTimeMs"].number < 20);
      CHECK(backend["active"].number == static_cast<double>(s.backends[b].active));
      CHECK(backend["connectErrors"].number == static_cast<double>(s.backends[b].connect_errors));
      backend_active += backend["active"].number;
    }
    const std::uint64_t backend_share = s.connections_active / 3;  // rounded down
    CHECK(backend_active == static_cast<double>(backend_share));

    // The frontend side splits the client connections; the backend side sums the backends.
    const JsonValue& protocols = doc["protocols"];
    CHECK(protocols.keys == std::vector<std::string>{"frontend", "backend"});
    CHECK(protocols["frontend"].keys == std::vector<std::string>{"h1", "h2", "h3", "ws"});
    CHECK(SumMember(protocols["frontend"], "active") == doc["connections"]["active"].number);
    CHECK(protocols["backend"].keys == std::vector<std::string>{"h1", "h2"});
    for (const std::string& protocol : protocols["backend"].keys) {
      double active = 0;
      double total = 0;
      for (std::size_t b = 0; b < backends.items.size(); ++b) {
        if (backends.items[b]["protocol"].text != protocol) continue;
        active += backends.items[b]["active"].number;
        total += backends.items[b]["total"].number;
      }
      CHECK(protocols["backend"][protocol]["active"].number == active);
      CHECK(protocols["backend"][protocol]["total"].number == total);
    }
    for (const JsonValue* side : {&protocols["frontend"], &protocols["backend"]}) {
      for (const JsonValue& p : side->items) {
        CHECK(IsInteger(p["active"]));
        CHECK(IsInteger(p["total"]));
        CHECK(p["total"].number >= p["active"].number);
      }
    }

    const JsonValue& udp = doc["udp"];
    CHECK(udp.keys == std::vector<std::string>{"activeSessions", "totalSessions", "datagramsIn",
                                               "datagramsOut"});
    for (const JsonValue& v : udp.items) CHECK(IsInteger(v));
    CHECK(udp["activeSessions"].number > 0);
    CHECK(udp["totalSessions"].number >= udp["activeSessions"].number);
    CHECK(udp["datagramsOut"].number <= udp["datagramsIn"].number);

    const JsonValue& by_domain = doc["requests"]["byDomain"];
    REQUIRE(by_domain.keys == simulation.domain_names(false));
    CHECK(by_domain.keys[0] == "www.example.com");
    CHECK(by_domain.keys[11] == "site-11.example.com");
    double per_second = 0;
    for (const JsonValue& domain : by_domain.items) {
      CHECK(domain.keys == std::vector<std::string>{"perSecond", "perMinute"});
      CHECK(IsInteger(domain["perMinute"]));
      per_second += domain["perSecond"].number;
    }
    CHECK(per_second == doctest::Approx(doc["requests"]["perSecond"].number));
    CHECK_FALSE(doc.Has("openConnectionBytes"));
  }
}

TEST_CASE("Snapshot of generation 21.1 is the protocol 1.0 shape plus adapter") {
  Simulation simulation(Options(5, 200, Generation::k21_1));
  Simulation newest(Options(5, 200, Generation::k27));
  JsonChecker checker;
  for (int step = 0; step < 5; ++step) {
    simulation.Advance();
    newest.Advance();
    const JsonValue doc = ParseOrFail(RenderSnapshot(simulation), checker);
    CHECK(doc.keys == std::vector<std::string>{"schemaVersion", "timestamp", "adapter", "proxy",
                                               "connections", "requests", "bytes", "throughput",
                                               "percentiles"});
    CheckCommonMembers(doc, simulation, "IMetrics", "21.1.3");
    CHECK(doc["requests"].keys == std::vector<std::string>{"total", "perSecond", "perMinute"});
    // Same traffic as generation 27 of the same seed: only the shape differs.
    const std::string json = RenderSnapshot(simulation);
    std::string trimmed = RenderSnapshot(newest);
    trimmed.replace(trimmed.find("27.8.0"), 6, "21.1.3");
    const std::size_t domains = trimmed.find(",\"byDomain\"");
    trimmed.erase(domains, trimmed.find("},\"bytes\"") - domains);
    trimmed.erase(trimmed.find(",\"backends\""));
    trimmed += '}';
    CHECK(json == trimmed);
  }
}

TEST_CASE("Snapshot of generation 19.6 is the IProxyStats shape") {
  Simulation simulation(Options(5, 200, Generation::k19_6));
  JsonChecker checker;
  bool open_bytes_fell = false;
  double previous_open_in = 0;
  for (int step = 0; step < 60; ++step) {
    CAPTURE(step);
    simulation.Advance();
    const JsonValue doc = ParseOrFail(RenderSnapshot(simulation), checker);
    const SimulationState& s = simulation.state();
    CHECK(doc.keys == std::vector<std::string>{"schemaVersion", "timestamp", "adapter", "proxy",
                                               "connections", "requests", "openConnectionBytes"});
    CheckCommonMembers(doc, simulation, "IProxyStats", "19.6.2");
    // getRequestsPerSecond() * 60, and nothing else of the requests group.
    CHECK(doc["requests"].keys == std::vector<std::string>{"perMinute"});
    CHECK(doc["requests"]["perMinute"].number == s.requests_per_minute);
    CHECK(s.requests_per_minute ==
          static_cast<double>(static_cast<std::uint64_t>(s.requests_per_second * 60)));
    // getThroughput(): the bytes of the connections open now, bounded by the bytes so far.
    const JsonValue& open = doc["openConnectionBytes"];
    CHECK(open.keys == std::vector<std::string>{"in", "out"});
    CHECK(IsInteger(open["in"]));
    CHECK(IsInteger(open["out"]));
    CHECK(open["in"].number == s.open_connection_bytes.in);
    CHECK(open["out"].number == s.open_connection_bytes.out);
    CHECK(open["in"].number > 0);
    CHECK(open["in"].number <= static_cast<double>(s.bytes_in));
    CHECK(open["out"].number <= static_cast<double>(s.bytes_out));
    if (step > 0 && open["in"].number < previous_open_in) open_bytes_fell = true;
    previous_open_in = open["in"].number;
  }
  // A gauge, not a counter: it falls when connections close.
  CHECK(open_bytes_fell);
}

TEST_CASE("Snapshot ?ips=N applies to every generation") {
  for (Generation generation : {Generation::k19_6, Generation::k21_1, Generation::k27}) {
    CAPTURE(GenerationName(generation));
    Simulation simulation(Options(3, 50, generation));
    simulation.Advance();
    SnapshotWriter writer;
    JsonChecker checker;
    const JsonValue doc = ParseOrFail(writer.Write(simulation, {.max_ips = 7}), checker);
    CHECK(doc["connections"]["byIP"].keys.size() == 7);
    CHECK(doc["connections"]["distinctIPs"].number == 50);
    if (generation != Generation::k19_6) {
      CHECK(doc["throughput"]["byIP"].keys == doc["connections"]["byIP"].keys);
    }
  }
}

TEST_CASE("Snapshot of generation 27 is valid with no, one and many backends and domains") {
  for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{500}}) {
    CAPTURE(count);
    SimulationOptions options = Options(2, 10);
    options.backends = count;
    options.domains = count;
    Simulation simulation(options);
    simulation.Advance();
    JsonChecker checker;
    const JsonValue doc = ParseOrFail(RenderSnapshot(simulation), checker);
    CHECK(doc["backends"].keys.size() == count);
    CHECK(doc["requests"]["byDomain"].keys.size() == count);
    CHECK(std::set<std::string>(doc["backends"].keys.begin(), doc["backends"].keys.end()).size() ==
          count);
    CHECK(std::set<std::string>(doc["requests"]["byDomain"].keys.begin(),
                                doc["requests"]["byDomain"].keys.end())
              .size() == count);
    // The backend side lists only protocols some backend speaks.
    std::vector<std::string> spoken;
    for (const char* protocol : {"h1", "h2"}) {
      const auto& of = simulation.protocol_of_backend();
      if (std::find(of.begin(), of.end(), protocol) != of.end()) spoken.emplace_back(protocol);
    }
    CHECK(doc["protocols"]["backend"].keys == spoken);
    CHECK(spoken.size() == (count == 0 ? 0 : count <= 2 ? 1 : 2));
    CHECK(doc["protocols"]["frontend"].keys.size() == 4);
  }
}

TEST_CASE("Snapshot ?ips=N returns the N IPs with the most active connections") {
  constexpr std::size_t kIps = 1000;
  Simulation simulation(Options(3, kIps));
  simulation.Advance();
  const SimulationState& s = simulation.state();
  const auto& names = simulation.ip_names(false);
  SnapshotWriter writer;
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{20}, kIps - 1,
                        kIps, kIps + 5}) {
    CAPTURE(n);
    JsonChecker checker;
    const JsonValue doc = ParseOrFail(writer.Write(simulation, {.max_ips = n}), checker);
    const JsonValue& by_ip = doc["connections"]["byIP"];
    REQUIRE(by_ip.keys.size() == std::min(n, kIps));
    CHECK(doc["connections"]["distinctIPs"].number == kIps);
    CHECK(doc["throughput"]["byIP"].keys == by_ip.keys);
    // Every IP left out has no more connections than any IP returned.
    const std::set<std::string> chosen(by_ip.keys.begin(), by_ip.keys.end());
    REQUIRE(chosen.size() == by_ip.keys.size());
    double smallest_chosen = 1e18;
    for (std::size_t k = 0; k < by_ip.keys.size(); ++k) {
      smallest_chosen = std::min(smallest_chosen, by_ip.items[k].number);
    }
    for (std::size_t i = 0; i < kIps; ++i) {
      if (chosen.count(names[i]) == 0) CHECK(s.ip_active[i] <= smallest_chosen);
    }
    // Values are those of the simulation.
    for (std::size_t k = 0; k < by_ip.keys.size(); ++k) {
      const auto it = std::find(names.begin(), names.end(), by_ip.keys[k]);
      REQUIRE(it != names.end());
      CHECK(by_ip.items[k].number == s.ip_active[static_cast<std::size_t>(it - names.begin())]);
    }
  }
}

TEST_CASE("Snapshot with hostile names is valid JSON with the characters escaped") {
  Simulation simulation(Options(24, 100));
  simulation.Advance();
  const std::string json = RenderSnapshot(simulation, {.hostile_names = true});
  JsonChecker checker;
  const JsonValue doc = ParseOrFail(json, checker);
  CHECK(checker.lone_surrogates >= 2);  // \ud800 in a route, \udc00 in an IP; twice each

  // Escapes as RFC 8259 requires, and no raw control characters anywhere.
  for (const char* escaped :
       {"say \\\"hello\\\"", "back\\\\slash\\\\", "multi\\nline\\r\\nwith\\ttab", "\\u0001\\u001f",
        "nul\\u0000byte", "lone \\ud800 surrogate", "ip \\udc00 low", "route{le=\\\"+Inf\\\"}=1"}) {
    CAPTURE(escaped);
    CHECK(json.find(escaped) != std::string::npos);
  }
  CHECK(std::none_of(json.begin(), json.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20; }));
  CHECK(json.find("caf\xC3\xA9") != std::string::npos);       // UTF-8 verbatim
  CHECK(json.find("\xF0\x9F\x9A\x80") != std::string::npos);  // emoji verbatim

  // Names decode back to the simulation's names (the lone surrogates as U+FFFD), all distinct.
  const auto& routes = simulation.route_names(true);
  const JsonValue& by_route = doc["connections"]["byRoute"];
  REQUIRE(by_route.keys.size() == routes.size());
  for (std::size_t r = 0; r < routes.size(); ++r) {
    std::string expected = routes[r];
    if (const auto at = expected.find("\xED\xA0\x80"); at != std::string::npos) {
      expected.replace(at, 3, "\xEF\xBF\xBD");
    }
    CHECK(by_route.keys[r] == expected);
  }
  CHECK(std::set<std::string>(by_route.keys.begin(), by_route.keys.end()).size() == routes.size());
  const JsonValue& by_ip = doc["connections"]["byIP"];
  CHECK(std::set<std::string>(by_ip.keys.begin(), by_ip.keys.end()).size() == 100);
  CHECK(std::any_of(by_route.keys.begin(), by_route.keys.end(),
                    [](const std::string& k) { return k.size() >= 4000; }));
  CHECK(std::any_of(by_ip.keys.begin(), by_ip.keys.end(),
                    [](const std::string& k) { return k.size() >= 3000; }));
  // Values still add up.
  CHECK(Sum(by_route) == doc["connections"]["active"].number);
  CHECK(Sum(by_ip) == doc["connections"]["active"].number);
  // Backends and domains carry hostile names too (generation 27, the default).
  const JsonValue& backends = doc["backends"];
  CHECK(backends.keys.size() == simulation.backend_names(true).size());
  CHECK(backends.keys[0] == "say \"hello\"");
  const JsonValue& by_domain = doc["requests"]["byDomain"];
  CHECK(by_domain.keys.size() == simulation.domain_names(true).size());
  CHECK(by_domain.keys[2] == "multi\nline\r\nwith\ttab");
  // The top 20 IPs include hostile names too.
  const JsonValue top = ParseOrFail(
      SnapshotWriter().Write(simulation, {.max_ips = 20, .hostile_names = true}), checker);
  CHECK(std::any_of(top["connections"]["byIP"].keys.begin(), top["connections"]["byIP"].keys.end(),
                    [](const std::string& k) { return k.find('"') != std::string::npos; }));
}

TEST_CASE("AppendJsonString escapes what RFC 8259 requires and nothing else") {
  const auto escape = [](std::string_view text) {
    std::string out;
    AppendJsonString(out, text);
    return out;
  };
  CHECK(escape("plain") == "\"plain\"");
  CHECK(escape("") == "\"\"");
  CHECK(escape("a\"b\\c/d") == "\"a\\\"b\\\\c/d\"");
  CHECK(escape("\b\f\n\r\t") == "\"\\b\\f\\n\\r\\t\"");
  CHECK(escape(std::string_view("\0\x01\x1f\x7f", 4)) == "\"\\u0000\\u0001\\u001f\x7f\"");
  CHECK(escape("caf\xC3\xA9 \xE8\xB7\xAF \xF0\x9F\x9A\x80") ==
        "\"caf\xC3\xA9 \xE8\xB7\xAF \xF0\x9F\x9A\x80\"");
  CHECK(escape("\xED\x9F\xBF") == "\"\xED\x9F\xBF\"");  // U+D7FF is not a surrogate
  CHECK(escape("x\xED\xA0\x80y") == "\"x\\ud800y\"");
  CHECK(escape("\xED\xBF\xBF") == "\"\\udfff\"");
}

TEST_CASE("AppendJsonNumber writes integral values without a fraction") {
  const auto number = [](double value) {
    std::string out;
    AppendJsonNumber(out, value);
    return out;
  };
  CHECK(number(0) == "0");
  CHECK(number(42) == "42");
  CHECK(number(9007199254740991.0) == "9007199254740991");
  CHECK(number(12.5) == "12.5");
  CHECK(number(0.1) == "0.1");
  JsonChecker checker;
  CHECK(checker.Parse(number(1e300)).has_value());
}

}  // namespace
}  // namespace proxy_sim
