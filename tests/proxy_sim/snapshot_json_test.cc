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

SimulationOptions Options(std::size_t routes, std::size_t ips) {
  SimulationOptions options;
  options.routes = routes;
  options.ips = ips;
  options.seed = 3;
  return options;
}

TEST_CASE("Snapshot JSON is valid and carries every protocol v1 field") {
  Simulation simulation(Options(5, 200));
  simulation.Advance();
  const std::string json = RenderSnapshot(simulation);
  JsonChecker checker;
  const JsonValue doc = ParseOrFail(json, checker);
  const SimulationState& s = simulation.state();

  CHECK(doc["schemaVersion"].text == "1");
  CHECK(doc["timestamp"].text == std::to_string(s.timestamp_ms));
  CHECK(doc["proxy"]["name"].text == "smartproxy");
  CHECK(doc["proxy"]["version"].text == "19.6.7");
  CHECK(doc["proxy"]["instance"].text == s.instance);
  CHECK(doc["proxy"]["startTime"].number == static_cast<double>(s.start_time_ms));
  const JsonValue& connections = doc["connections"];
  CHECK(connections["active"].text == std::to_string(s.connections_active));
  CHECK(connections["total"].text == std::to_string(s.connections_total));
  CHECK(connections["byRoute"].keys.size() == 5);
  CHECK(connections["byIP"].keys.size() == 200);
  CHECK(connections["distinctIPs"].number == 200);
  CHECK(Sum(connections["byRoute"]) == connections["active"].number);
  CHECK(Sum(connections["byIP"]) == connections["active"].number);
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
