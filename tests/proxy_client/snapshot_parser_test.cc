#include "proxy_client/snapshot_parser.h"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "page_memory/page_buffer.h"
#include "page_memory/page_pool.h"
#include "page_residency.h"
#include "temp_dir.h"

using proxy_client::ParseSnapshot;
using proxy_client::Snapshot;
using test_support::KernelOffersHugePages;
using test_support::ResidentPages;

namespace {

std::string FixtureText(const std::string& name) {
  return test_support::ReadFile(std::string(FIXTURES_DIR) + "/" + name);
}

// A minimal valid document with `extra` spliced into the root object.
std::string Minimal(const std::string& extra = "", const std::string& connections_extra = "") {
  return R"({"schemaVersion":1,"timestamp":1764043200123,"connections":{"active":2,"total":7)" +
         connections_extra + "}" + extra + "}";
}

std::string ErrorOf(const std::string& json) {
  auto result = ParseSnapshot(json);
  REQUIRE_MESSAGE(!result.has_value(), "expected a parse error for: " << json);
  return result.error().message;
}

}  // namespace

TEST_CASE("Parser reads every field of the full example snapshot") {
  auto result = ParseSnapshot(FixtureText("snapshot_full.json"));
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  const Snapshot& s = result.value();
  CHECK(s.schema_version == 1);
  CHECK(s.timestamp_ms == 1764043200123.0);
  REQUIRE(s.proxy.has_value());
  CHECK(s.proxy->name == "smartproxy");
  CHECK(s.proxy->version == "19.6.7");
  CHECK(s.proxy->instance == "a1b2c3");
  CHECK(s.proxy->start_time_ms == 1764040000000.0);
  CHECK(s.connections.active == 42);
  CHECK(s.connections.total == 123456);
  REQUIRE(s.connections.by_route.has_value());
  REQUIRE(s.connections.by_route->size() == 2);
  CHECK((*s.connections.by_route)[0].first == "api");
  CHECK((*s.connections.by_route)[0].second == 30);
  CHECK((*s.connections.by_route)[1].first == "web");
  CHECK((*s.connections.by_route)[1].second == 12);
  REQUIRE(s.connections.by_ip.has_value());
  REQUIRE(s.connections.by_ip->size() == 3);
  CHECK((*s.connections.by_ip)[1].first == "2001:db8::1");
  CHECK((*s.connections.by_ip)[1].second == 1);
  CHECK(s.connections.distinct_ips == 5012);
  REQUIRE(s.requests.has_value());
  CHECK(s.requests->total == 99999);
  CHECK(s.requests->per_second == 12.5);
  CHECK(s.requests->per_minute == 700);
  REQUIRE(s.bytes.has_value());
  CHECK(s.bytes->in == 123456789);
  CHECK(s.bytes->out == 987654321);
  REQUIRE(s.throughput.has_value());
  CHECK(s.throughput->instant->in == 1000);
  CHECK(s.throughput->instant->out == 2000);
  CHECK(s.throughput->recent->in == 900);
  CHECK(s.throughput->recent->out == 1800);
  CHECK(s.throughput->average->in == 800);
  CHECK(s.throughput->average->out == 1600);
  REQUIRE(s.throughput->by_route->size() == 2);
  CHECK((*s.throughput->by_route)[1].first == "web");
  CHECK((*s.throughput->by_route)[1].second.out == 40);
  REQUIRE(s.throughput->by_ip->size() == 1);
  CHECK((*s.throughput->by_ip)[0].first == "203.0.113.7");
  CHECK((*s.throughput->by_ip)[0].second.in == 1);
  CHECK((*s.throughput->by_ip)[0].second.out == 2);
  REQUIRE(s.percentiles.has_value());
  CHECK(s.percentiles->connection_duration_ms->p50 == 120);
  CHECK(s.percentiles->connection_duration_ms->p95 == 900);
  CHECK(s.percentiles->connection_duration_ms->p99 == 2500);
  CHECK(s.percentiles->bytes_transferred_in->p99 == 3);
  CHECK(s.percentiles->bytes_transferred_out->p50 == 4);
  // Protocol 1.1 groups.
  REQUIRE(s.requests->by_domain.has_value());
  REQUIRE(s.requests->by_domain->size() == 2);
  CHECK((*s.requests->by_domain)[0].first == "example.com");
  CHECK((*s.requests->by_domain)[0].second.per_second == 3);
  CHECK((*s.requests->by_domain)[0].second.per_minute == 120);
  CHECK((*s.requests->by_domain)[1].first == "api.example.com");
  CHECK_FALSE((*s.requests->by_domain)[1].second.per_second.has_value());
  CHECK((*s.requests->by_domain)[1].second.per_minute == 0.5);
  REQUIRE(s.adapter.has_value());
  CHECK(s.adapter->name == "smartproxy-snapshot-adapter");
  CHECK(s.adapter->version == "0.2.0");
  CHECK(s.adapter->api == "IMetrics");
  CHECK(s.adapter->skipped == 2);
  REQUIRE(s.open_connection_bytes.has_value());
  CHECK(s.open_connection_bytes->in == 1234);
  CHECK(s.open_connection_bytes->out == 5678);
  REQUIRE(s.backends.has_value());
  REQUIRE(s.backends->size() == 2);
  const proxy_client::Backend& backend = (*s.backends)[0].second;
  CHECK((*s.backends)[0].first == "10.0.0.5:8080");
  CHECK(backend.protocol == "h2");
  CHECK(backend.active == 3);
  CHECK(backend.total == 120);
  CHECK(backend.connect_errors == 1);
  CHECK(backend.handshake_errors == 0);
  CHECK(backend.request_errors == 2);
  CHECK(backend.connect_time_ms == 4.5);
  CHECK(backend.pool_hits == 100);
  CHECK(backend.pool_misses == 20);
  CHECK((*s.backends)[1].first == "10.0.0.6:8080");
  CHECK((*s.backends)[1].second.total == 7);
  CHECK_FALSE((*s.backends)[1].second.protocol.has_value());
  REQUIRE(s.protocols.has_value());
  REQUIRE(s.protocols->frontend->size() == 2);
  CHECK((*s.protocols->frontend)[1].first == "h2");
  CHECK((*s.protocols->frontend)[1].second.active == 3);
  CHECK((*s.protocols->frontend)[1].second.total == 10);
  REQUIRE(s.protocols->backend->size() == 1);
  CHECK((*s.protocols->backend)[0].second.total == 4);
  REQUIRE(s.udp.has_value());
  CHECK(s.udp->active_sessions == 2);
  CHECK(s.udp->total_sessions == 50);
  CHECK(s.udp->datagrams_in == 1000);
  CHECK(s.udp->datagrams_out == 990);
}

TEST_CASE("Parser leaves each optional group absent when the document omits it") {
  auto result = ParseSnapshot(Minimal());
  REQUIRE(result.has_value());
  const Snapshot& s = result.value();
  CHECK(s.connections.active == 2);
  CHECK(s.connections.total == 7);
  CHECK_FALSE(s.proxy.has_value());
  CHECK_FALSE(s.connections.by_route.has_value());
  CHECK_FALSE(s.connections.by_ip.has_value());
  CHECK_FALSE(s.connections.distinct_ips.has_value());
  CHECK_FALSE(s.requests.has_value());
  CHECK_FALSE(s.bytes.has_value());
  CHECK_FALSE(s.throughput.has_value());
  CHECK_FALSE(s.percentiles.has_value());
  CHECK_FALSE(s.adapter.has_value());
  CHECK_FALSE(s.open_connection_bytes.has_value());
  CHECK_FALSE(s.backends.has_value());
  CHECK_FALSE(s.protocols.has_value());
  CHECK_FALSE(s.udp.has_value());

  SUBCASE("members of a group are optional one by one") {
    auto partial = ParseSnapshot(Minimal(
        R"(,"requests":{"perSecond":3},"proxy":{"name":"x"},"percentiles":{"connectionDurationMs":{"p95":5}},"throughput":{"recent":{"in":1,"out":2}})"));
    REQUIRE(partial.has_value());
    CHECK_FALSE(partial->requests->total.has_value());
    CHECK(partial->requests->per_second == 3);
    CHECK_FALSE(partial->proxy->version.has_value());
    CHECK_FALSE(partial->percentiles->connection_duration_ms->p50.has_value());
    CHECK(partial->percentiles->connection_duration_ms->p95 == 5);
    CHECK_FALSE(partial->percentiles->bytes_transferred_in.has_value());
    CHECK_FALSE(partial->throughput->instant.has_value());
    CHECK(partial->throughput->recent->out == 2);
  }
  SUBCASE("an empty map is present and empty") {
    auto empty = ParseSnapshot(Minimal("", R"(,"byRoute":{})"));
    REQUIRE(empty.has_value());
    REQUIRE(empty->connections.by_route.has_value());
    CHECK(empty->connections.by_route->empty());
  }
}

TEST_CASE("Parser ignores unknown fields at every level") {
  auto result = ParseSnapshot(
      R"({"future":{"a":[1,2,{"b":3}]},"schemaVersion":1,"timestamp":5,"connections":{"active":1,"total":2,"new":"x","byRoute":{"r":1}},"bytes":{"in":1,"out":2,"other":[]}})");
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  CHECK(result->connections.by_route->size() == 1);
  CHECK(result->bytes->out == 2);
}

TEST_CASE("Parser rejects wrong types, naming the JSON path and the offending value") {
  CHECK(ErrorOf(Minimal("", R"(,"byRoute":{"api":"x"})")) ==
        R"(connections.byRoute["api"]: expected a non-negative number, got "x")");
  CHECK(ErrorOf(Minimal(R"(,"requests":{"perSecond":true})")) ==
        "requests.perSecond: expected a non-negative number, got true");
  CHECK(ErrorOf(Minimal(R"(,"proxy":{"name":7})")) == "proxy.name: expected a string, got 7");
  CHECK(ErrorOf(Minimal(R"(,"throughput":{"byIP":{"1.2.3.4":[1]}})")) ==
        R"(throughput.byIP["1.2.3.4"]: expected an object, got an array)");
  CHECK(ErrorOf(Minimal(R"(,"bytes":null)")) == "bytes: expected an object, got null");
  CHECK(ErrorOf(Minimal(R"(,"percentiles":{"bytesTransferred":{"in":{"p50":"1"}}})")) ==
        R"(percentiles.bytesTransferred.in.p50: expected a non-negative number, got "1")");
  CHECK(ErrorOf(R"({"schemaVersion":1,"timestamp":5,"connections":[]})") ==
        "connections: expected an object, got an array");
}

TEST_CASE("Parser rejects negative numbers and counters beyond 2^53") {
  CHECK(ErrorOf(Minimal("", R"(,"byIP":{"10.0.0.1":-1})")) ==
        R"(connections.byIP["10.0.0.1"]: expected a non-negative number, got -1)");
  CHECK(ErrorOf(Minimal(R"(,"throughput":{"instant":{"in":-0.5,"out":1}})")) ==
        "throughput.instant.in: expected a non-negative number, got -0.5");
  CHECK(ErrorOf(Minimal(R"(,"bytes":{"in":9007199254740993,"out":1})")) ==
        "bytes.in: expected a counter no larger than 2^53, got 9007199254740993");
  CHECK(ErrorOf(Minimal(R"(,"requests":{"total":18446744073709551615})")) ==
        "requests.total: expected a counter no larger than 2^53, got 18446744073709551615");
  CHECK(ErrorOf(Minimal(R"(,"requests":{"total":1e300})")) ==
        "requests.total: expected a counter no larger than 2^53, got 1.0000000000000001e+300");
  SUBCASE("2^53 itself is a valid counter") {
    auto result = ParseSnapshot(Minimal(R"(,"bytes":{"in":9007199254740992,"out":0})"));
    REQUIRE(result.has_value());
    CHECK(result->bytes->in == 9007199254740992.0);
  }
}

TEST_CASE("Parser rejects NaN and Infinity, which are not JSON") {
  CHECK(ErrorOf(Minimal(R"(,"requests":{"perSecond":NaN})")).rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(Minimal(R"(,"requests":{"perSecond":Infinity})")).rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(Minimal(R"(,"requests":{"perSecond":1e999})")).rfind("invalid JSON", 0) == 0);
}

TEST_CASE("Parser rejects missing required fields") {
  CHECK(ErrorOf(R"({"timestamp":1,"connections":{"active":1,"total":1}})") ==
        "schemaVersion: required field is missing");
  CHECK(ErrorOf(R"({"schemaVersion":1,"connections":{"active":1,"total":1}})") ==
        "timestamp: required field is missing");
  CHECK(ErrorOf(R"({"schemaVersion":1,"timestamp":1})") ==
        "connections: required field is missing");
  CHECK(ErrorOf(R"({"schemaVersion":1,"timestamp":1,"connections":{"total":1}})") ==
        "connections.active: required field is missing");
  CHECK(ErrorOf(R"({"schemaVersion":1,"timestamp":1,"connections":{"active":1}})") ==
        "connections.total: required field is missing");
  CHECK(ErrorOf(Minimal(R"(,"bytes":{"in":1})")) == "bytes.out: required field is missing");
  CHECK(ErrorOf(Minimal(R"(,"throughput":{"average":{"out":1}})")) ==
        "throughput.average.in: required field is missing");
}

TEST_CASE("Parser stores the schemaVersion it read, 1 also when written as 1.0") {
  // A Snapshot's own default is 0, so a 1 can only come from the document.
  REQUIRE(Snapshot{}.schema_version == 0);
  for (const char* version : {"1", "1.0"}) {
    CAPTURE(version);
    auto result = ParseSnapshot(std::string(R"({"schemaVersion":)") + version +
                                R"(,"timestamp":1,"connections":{"active":1,"total":1}})");
    REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
    CHECK(result->schema_version == 1);
  }
}

TEST_CASE("Parser reports an unsupported schemaVersion as a version error") {
  auto result = ParseSnapshot(R"({"schemaVersion":2,"whatever":"changed"})");
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().unsupported_version);
  CHECK(result.error().message ==
        "schemaVersion: unsupported version 2, this exporter speaks version 1");
  SUBCASE("a non-integer schemaVersion is a type error, not a version") {
    auto text = ParseSnapshot(
        R"({"schemaVersion":"1","timestamp":1,"connections":{"active":1,"total":1}})");
    REQUIRE_FALSE(text.has_value());
    CHECK_FALSE(text.error().unsupported_version);
    CHECK(text.error().message == R"(schemaVersion: expected an integer, got "1")");
  }
}

TEST_CASE("Parser rejects a body that is not a JSON object or not UTF-8") {
  CHECK(ErrorOf("") == "body is empty, expected a JSON object");
  CHECK(ErrorOf("   ") == "body is empty, expected a JSON object");
  CHECK(ErrorOf("123") == "body is not a JSON object (it must start with '{')");
  CHECK(ErrorOf("-") == "body is not a JSON object (it must start with '{')");
  CHECK(ErrorOf("[1]") == "body is not a JSON object (it must start with '{')");
  CHECK(ErrorOf(R"({"schemaVersion":1,)").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(Minimal("", ",\"byRoute\":{\"caf\xe9\":1}")) == "body is not valid UTF-8");
  CHECK(ErrorOf(Minimal("", ",\"byRoute\":{\"\xed\xa0\x80\":1}")) == "body is not valid UTF-8");
}

TEST_CASE("Parser replaces escaped lone surrogates with U+FFFD and keeps proper pairs") {
  auto result = ParseSnapshot(Minimal(
      "",
      R"(,"byRoute":{"a\ud800b":1,"\uDC00":2,"\ud83d\ude00":3,"x\\ud800":4,"\ud800\ud800":5})"));
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  const auto& routes = *result->connections.by_route;
  REQUIRE(routes.size() == 5);
  CHECK(routes[0].first ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(routes[1].first == "\xEF\xBF\xBD");
  CHECK(routes[2].first == "\xF0\x9F\x98\x80");  // U+1F600 from a proper pair
  CHECK(routes[3].first == "x\\ud800");          // an escaped backslash, not an escape
  CHECK(routes[4].first == "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("Parser keeps a repeated name once, with the later value, in first position") {
  auto result = ParseSnapshot(Minimal(
      R"(,"throughput":{"byRoute":{"a":{"in":1,"out":1},"b":{"in":2,"out":2},"a":{"in":3,"out":4}}})",
      R"(,"byRoute":{"a":1,"b":2,"a":3},"byIP":{"1.1.1.1":1,"1.1.1.1":9})"));
  REQUIRE(result.has_value());
  const auto& routes = *result->connections.by_route;
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].first == "a");
  CHECK(routes[0].second == 3);
  CHECK(routes[1].second == 2);
  REQUIRE(result->connections.by_ip->size() == 1);
  CHECK((*result->connections.by_ip)[0].second == 9);
  const auto& route_throughput = *result->throughput->by_route;
  REQUIRE(route_throughput.size() == 2);
  CHECK(route_throughput[0].second.in == 3);
  CHECK(route_throughput[0].second.out == 4);
  SUBCASE("a repeated schema field takes the later value") {
    auto twice = ParseSnapshot(
        R"({"schemaVersion":1,"timestamp":1,"connections":{"active":1,"total":1,"active":5}})");
    REQUIRE(twice.has_value());
    CHECK(twice->connections.active == 5);
  }
}

TEST_CASE("Parser accepts hostile names verbatim: they are data") {
  auto result = ParseSnapshot(Minimal(
      "", R"(,"byRoute":{"a\"b":1,"c\\d":2,"e\nf":3,"{}=,":4,"café 日本 😀":5,"\u0000":6})"));
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  const auto& routes = *result->connections.by_route;
  REQUIRE(routes.size() == 6);
  CHECK(routes[0].first == "a\"b");
  CHECK(routes[1].first == "c\\d");
  CHECK(routes[2].first == "e\nf");
  CHECK(routes[3].first == "{}=,");
  CHECK(routes[4].first == "café 日本 😀");
  CHECK(routes[5].first == std::string(1, '\0'));
  SUBCASE("a 100 KB name") {
    const std::string long_name(100000, 'r');
    auto long_result = ParseSnapshot(Minimal("", ",\"byRoute\":{\"" + long_name + "\":1}"));
    REQUIRE(long_result.has_value());
    CHECK((*long_result->connections.by_route)[0].first == long_name);
  }
}

// A snapshot whose connections.byIP and throughput.byIP hold `count` IPs each (4.6 MB at 100k).
std::string ManyIps(int count) {
  std::string by_ip = ",\"byIP\":{";
  std::string throughput = ",\"throughput\":{\"byIP\":{";
  for (int i = 0; i < count; ++i) {
    const std::string ip = "10." + std::to_string(i / 65536) + "." +
                           std::to_string((i / 256) % 256) + "." + std::to_string(i % 256);
    if (i > 0) {
      by_ip += ',';
      throughput += ',';
    }
    by_ip += "\"" + ip + "\":" + std::to_string(i % 7);
    throughput += "\"" + ip + "\":{\"in\":" + std::to_string(i) + ",\"out\":1}";
  }
  by_ip += "}";
  throughput += "}}";
  return Minimal(throughput, by_ip);
}

TEST_CASE("Parser reads maps of 100k entries in document order") {
  auto result = ParseSnapshot(ManyIps(100000));
  REQUIRE(result.has_value());
  REQUIRE(result->connections.by_ip->size() == 100000);
  CHECK((*result->connections.by_ip)[99999].first == "10.1.134.159");
  CHECK((*result->connections.by_ip)[99999].second == 99999 % 7);
  REQUIRE(result->throughput->by_ip->size() == 100000);
  CHECK((*result->throughput->by_ip)[12345].second.in == 12345);
}

// A body too large for simdjson is refused before the parser's buffers are touched: the parser
// keeps working for the next body (it once kept its old capacities over freed buffers, and the
// next body within them crashed stage 1). The 3.5 GB are reserved address space, never written.
TEST_CASE("Parser refuses a body beyond simdjson's limit and parses the next one") {
  proxy_client::SnapshotParser parser;
  const std::string medium = ManyIps(20000);  // the document spans mapped buffers
  REQUIRE(parser.Parse(medium).has_value());
  const std::size_t huge = std::size_t{3500} << 20;
  void* region = mmap(nullptr, huge + 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  REQUIRE(region != MAP_FAILED);
  static_cast<char*>(region)[0] = '{';
  const auto refused = parser.ParseInPlace(static_cast<char*>(region), huge);
  munmap(region, huge + 4096);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("larger than the parser can hold") != std::string::npos);
  const auto again = parser.Parse(medium);
  REQUIRE(again.has_value());
  CHECK(again->connections.by_ip->size() == 20000);
}

// The client's way: the body in its own pages, lent to the pool once the document is built,
// so that the snapshot is built in them: body, document and snapshot are never resident at once.
TEST_CASE("ParseConsuming builds the same snapshot, in the body's pages") {
  const std::string large = ManyIps(100000);
  const auto expected = ParseSnapshot(large);
  REQUIRE(expected.has_value());
  proxy_client::SnapshotParser parser;
  page_memory::PageBuffer body;
  REQUIRE(body.Reserve(large.size() + proxy_client::kParsePaddingBytes, 0));
  const std::size_t pages = (large.size() + 4095) / 4096;
  for (int round = 0; round < 2; ++round) {  // the second reuses the parser's mappings
    page_memory::ReturnPooledPages();
    body.MakeWritable(large.size() + proxy_client::kParsePaddingBytes);
    std::memcpy(body.data(), large.data(), large.size());
    REQUIRE(ResidentPages(body.data(), large.size()) >= pages - 1);
    auto consumed = parser.ParseConsuming(&body, large.size());
    REQUIRE(consumed.has_value());
    CHECK(*consumed->connections.by_ip == *expected->connections.by_ip);
    REQUIRE(consumed->throughput->by_ip->size() == 100000);
    CHECK((*consumed->throughput->by_ip)[99999].second.in == 99999);
    CHECK((*consumed->throughput->by_ip)[99999].first == "10.1.134.159");
    if (KernelOffersHugePages()) {
      // The snapshot's two maps of 100k entries (4 and 4.8 MB) took at least two huge pages
      // the body lent: empty ones stand in for them in the body.
      const std::size_t whole = large.size() / (2 << 20) * (2 << 20);
      REQUIRE(whole >= 4 << 20);
      CHECK(ResidentPages(body.data(), whole) <= whole / 4096 - 2 * 512);
    } else {
      CHECK(ResidentPages(body.data(), large.size()) >= pages - 1);  // kept: nothing to gain
    }
  }
}

// The parser gives its document's pages back after each parse where huge pages are offered
// (page_memory): a document of this size spans several huge pages, so this rereads pages that
// were lent to the pool in between.
TEST_CASE("Parser reads a large document again after giving the document's pages back") {
  proxy_client::SnapshotParser parser;
  const std::string large = ManyIps(100000);
  auto first = parser.Parse(large);
  REQUIRE(first.has_value());
  auto small = parser.Parse(Minimal());
  REQUIRE(small.has_value());
  std::string in_place = large;
  auto second = parser.ParseInPlace(&in_place);
  REQUIRE(second.has_value());
  REQUIRE(second->connections.by_ip->size() == 100000);
  CHECK(*second->connections.by_ip == *first->connections.by_ip);
  REQUIRE(second->throughput->by_ip->size() == 100000);
  for (std::size_t i = 0; i < 100000; i += 997) {
    CHECK((*second->throughput->by_ip)[i].first == (*first->throughput->by_ip)[i].first);
    CHECK((*second->throughput->by_ip)[i].second.in == static_cast<double>(i));
  }
}

TEST_CASE("Parser object can be reused across documents of different sizes") {
  proxy_client::SnapshotParser parser;
  auto big = parser.Parse(FixtureText("snapshot_full.json"));
  REQUIRE(big.has_value());
  auto bad = parser.Parse("{");
  REQUIRE_FALSE(bad.has_value());
  auto small = parser.Parse(Minimal());
  REQUIRE(small.has_value());
  CHECK_FALSE(small->proxy.has_value());
}

TEST_CASE("Parser reads a body in place, rewriting lone surrogates within it") {
  proxy_client::SnapshotParser parser;
  std::string body = Minimal("", R"(,"byRoute":{"a\ud800":1})");
  const std::size_t size = body.size();
  auto result = parser.ParseInPlace(&body);
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  CHECK((*result->connections.by_route)[0].first == "a\xEF\xBF\xBD");
  CHECK(body.size() == size);
  CHECK(body.find("\\ufffd") != std::string::npos);
  std::string not_object = "  [1]";
  CHECK_FALSE(parser.ParseInPlace(&not_object).has_value());
  std::string truncated = R"({"schemaVersion":1,"timestamp":)";
  CHECK(parser.ParseInPlace(&truncated).error().message.rfind("invalid JSON", 0) == 0);
}

TEST_CASE("Parser deduplicates a large map where every name appears twice") {
  std::string by_route = ",\"byRoute\":{";
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 5000; ++i) {
      if (round + i > 0) by_route += ',';
      // Names of every length from 1 to 40 bytes, so that every tail of the hash is used.
      const std::string name =
          std::string(static_cast<std::size_t>(i % 40), 'r') + std::to_string(i);
      by_route += "\"" + name + "\":" + std::to_string(round * 10000 + i);
    }
  }
  by_route += "}";
  auto result = ParseSnapshot(Minimal("", by_route));
  REQUIRE(result.has_value());
  const auto& routes = *result->connections.by_route;
  REQUIRE(routes.size() == 5000);
  for (int i = 0; i < 5000; i += 499) {
    CHECK(routes[static_cast<std::size_t>(i)].second == 10000 + i);  // the later value
  }
}
