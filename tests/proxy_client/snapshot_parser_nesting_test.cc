// Forward compatibility (docs/snapshot-protocol.md, rule 2): unknown fields of any type are
// skipped at any depth, and only the whole document is bounded, at 64 levels.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proxy_client/snapshot_parser.h"

using proxy_client::ParseSnapshot;

namespace {

constexpr int kMaxLevels = 64;
const std::string kTooDeep = "document nests deeper than 64 levels";

std::string Minimal(const std::string& extra = "", const std::string& connections_extra = "") {
  return R"({"schemaVersion":1,"timestamp":1764043200123,"connections":{"active":2,"total":7)" +
         connections_extra + "}" + extra + "}";
}

std::string ErrorOf(const std::string& json) {
  auto result = ParseSnapshot(json);
  REQUIRE_MESSAGE(!result.has_value(), "expected a parse error for: " << json.substr(0, 200));
  return result.error().message;
}

enum class Nesting { kObjects, kArrays, kMixed };

// `levels` containers, each inside the one before; the innermost holds `innermost` (empty: the
// innermost container is empty, {} or []).
std::string Nested(int levels, Nesting nesting, const std::string& innermost = "1") {
  std::string open;
  std::string close;
  for (int i = 0; i < levels; ++i) {
    const bool array = nesting == Nesting::kArrays || (nesting == Nesting::kMixed && i % 2 == 1);
    const bool empty_innermost = i == levels - 1 && innermost.empty();
    open += array ? "[" : empty_innermost ? "{" : R"({"k":)";
    close += array ? ']' : '}';
  }
  return open + innermost + std::string(close.rbegin(), close.rend());
}

// An unknown field `"x"` placed where a newer adapter might add one. `level` is the level of
// the object that holds it (the root object is level 1), so the document nests
// `level + levels_of_x` levels.
struct Position {
  const char* name;
  int level;
  std::string before;  // the document up to the unknown field's value
  std::string after;   // the rest of the document
};

std::vector<Position> Positions() {
  const std::string head =
      R"({"schemaVersion":1,"timestamp":1,"connections":{"active":2,"total":7)";
  return {
      {"the root object", 1, head + R"(},"x":)", "}"},
      {"an unknown array at the root", 2, head + R"(},"x":[1,"a",)", "]}"},
      {"connections", 2, head + R"(,"x":)", "}}"},
      {"adapter", 2, head + R"(},"adapter":{"api":"IMetrics","x":)", "}}"},
      {"udp", 2, head + R"(},"udp":{"totalSessions":4,"x":)", "}}"},
      {"a backend", 3, head + R"(},"backends":{"b1":{"total":5,"x":)", "}}}"},
      {"a frontend protocol", 4, head + R"(},"protocols":{"frontend":{"h2":{"total":5,"x":)",
       "}}}}"},
      {"a domain", 4, head + R"(},"requests":{"byDomain":{"d.example":{"perMinute":5,"x":)",
       "}}}}"},
      {"a client IP's throughput", 4,
       head + R"(},"throughput":{"byIP":{"1.2.3.4":{"in":1,"out":2,"x":)", "}}}}"},
      {"percentiles.bytesTransferred.in", 4,
       head + R"(},"percentiles":{"bytesTransferred":{"in":{"p50":5,"x":)", "}}}}"},
  };
}

}  // namespace

TEST_CASE("Parser skips the issue's deep unknown object inside a backend") {
  auto result = ParseSnapshot(Minimal(
      R"(,"backends":{"b1":{"protocols":{"frontend":{"h2":{"active":1}}}}},"future":{"backends":{"b1":{"protocols":{"frontend":{"h2":{"active":1}}}}}})"));
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  REQUIRE(result->backends->size() == 1);
  CHECK((*result->backends)[0].first == "b1");
  CHECK_FALSE((*result->backends)[0].second.active.has_value());
  CHECK(result->connections.total == 7);
}

TEST_CASE("Parser skips unknown fields of every JSON type in every group") {
  const std::string any = R"("u1":null,"u2":true,"u3":"s","u4":-1.5,"u5":1e300,)"
                          R"("u6":18446744073709551615,"u7":[],"u8":{},"u9":[{"a":[-1]}])";
  auto result = ParseSnapshot(
      R"({"schemaVersion":1,"timestamp":1,)" + any + R"(,"connections":{"active":2,"total":7,)" +
      any + R"(},"proxy":{"name":"p",)" + any + R"(},"requests":{"total":3,)" + any +
      R"(,"byDomain":{"d":{"perSecond":1,)" + any + R"(}}},"bytes":{"in":1,"out":2,)" + any +
      R"(},"throughput":{"instant":{"in":1,"out":2,)" + any + R"(},)" + any +
      R"(},"percentiles":{"bytesTransferred":{"in":{"p99":1,)" + any + R"(},)" + any + R"(},)" +
      any + R"(},"adapter":{"skipped":1,)" + any + R"(},"openConnectionBytes":{"in":1,"out":2,)" +
      any + R"(},"backends":{"b":{"total":1,)" + any +
      R"(}},"protocols":{"backend":{"h1":{"total":1,)" + any + R"(}},)" + any +
      R"(},"udp":{"datagramsIn":1,)" + any + "}}");
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  CHECK(result->connections.active == 2);
  CHECK(result->proxy->name == "p");
  CHECK(result->requests->total == 3);
  CHECK((*result->requests->by_domain)[0].second.per_second == 1);
  CHECK(result->bytes->out == 2);
  CHECK(result->throughput->instant->out == 2);
  CHECK(result->percentiles->bytes_transferred_in->p99 == 1);
  CHECK(result->adapter->skipped == 1);
  CHECK(result->open_connection_bytes->out == 2);
  CHECK((*result->backends)[0].second.total == 1);
  CHECK((*result->protocols->backend)[0].second.total == 1);
  CHECK_FALSE(result->protocols->frontend.has_value());
  CHECK(result->udp->datagrams_in == 1);
}

TEST_CASE("Parser accepts a document of exactly 64 levels and refuses 65, at every position") {
  for (const Position& position : Positions()) {
    for (const Nesting nesting : {Nesting::kObjects, Nesting::kArrays, Nesting::kMixed}) {
      for (const char* innermost : {"1", ""}) {
        const std::string name = position.name;
        const int kind = static_cast<int>(nesting);
        const std::string inner = innermost;
        CAPTURE(name);
        CAPTURE(kind);
        CAPTURE(inner);
        const int levels = kMaxLevels - position.level;
        auto at_limit =
            ParseSnapshot(position.before + Nested(levels, nesting, innermost) + position.after);
        REQUIRE_MESSAGE(at_limit.has_value(),
                        (at_limit.has_value() ? "" : at_limit.error().message));
        CHECK(at_limit->connections.active == 2);
        CHECK(ErrorOf(position.before + Nested(levels + 1, nesting, innermost) + position.after) ==
              kTooDeep);
      }
    }
  }
}

TEST_CASE("Parser reads the known fields beside a deep unknown field") {
  auto result = ParseSnapshot(
      Minimal(R"(,"backends":{"b1":{"x":)" + Nested(61, Nesting::kMixed) +
                  R"(,"total":5,"protocol":"h2"}},"protocols":{"frontend":{"h2":{"y":)" +
                  Nested(60, Nesting::kObjects) + R"(,"active":3}}})",
              R"(,"z":)" + Nested(62, Nesting::kArrays) + R"(,"byRoute":{"api":4})"));
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  CHECK((*result->backends)[0].second.total == 5);
  CHECK((*result->backends)[0].second.protocol == "h2");
  CHECK((*result->protocols->frontend)[0].second.active == 3);
  CHECK((*result->connections.by_route)[0].second == 4);
}

TEST_CASE("Parser refuses a document nested far past the limit without running out of stack") {
  CHECK(ErrorOf(Minimal(R"(,"x":)" + Nested(100000, Nesting::kArrays))) == kTooDeep);
  CHECK(ErrorOf(Minimal(R"(,"x":)" + Nested(100000, Nesting::kObjects))) == kTooDeep);
  SUBCASE("depth is checked before the schemaVersion") {
    CHECK(ErrorOf(R"({"schemaVersion":2,"x":)" + Nested(70, Nesting::kArrays) + "}") == kTooDeep);
  }
}

TEST_CASE("Parser keeps the type checks of known fields, whatever lies below them") {
  CHECK(ErrorOf(Minimal("", R"(,"byRoute":[{"api":1}])")) ==
        "connections.byRoute: expected an object, got an array");
  CHECK(ErrorOf(Minimal("", R"(,"byRoute":{"api":{"active":{"deep":1}}})")) ==
        R"(connections.byRoute["api"]: expected a non-negative number, got an object)");
  CHECK(ErrorOf(Minimal(R"(,"backends":[{"b1":{}}])")) ==
        "backends: expected an object, got an array");
  CHECK(ErrorOf(Minimal(R"(,"backends":{"b1":[]})")) ==
        R"(backends["b1"]: expected an object, got an array)");
  CHECK(ErrorOf(Minimal(R"(,"backends":{"b1":{"active":{"now":1}}})")) ==
        R"(backends["b1"].active: expected a non-negative number, got an object)");
  CHECK(ErrorOf(Minimal(R"(,"protocols":{"frontend":[{"h2":{}}]})")) ==
        "protocols.frontend: expected an object, got an array");
  CHECK(ErrorOf(Minimal(R"(,"protocols":{"frontend":{"h2":{"total":[1]}}})")) ==
        R"(protocols.frontend["h2"].total: expected a non-negative integer counter, got an array)");
  CHECK(ErrorOf(Minimal(R"(,"requests":{"byDomain":{"d":{"perMinute":{"x":1}}}})")) ==
        R"(requests.byDomain["d"].perMinute: expected a non-negative number, got an object)");
  CHECK(ErrorOf(Minimal(R"(,"percentiles":{"bytesTransferred":[]})")) ==
        "percentiles.bytesTransferred: expected an object, got an array");
}
