#include "exporter/conversion/backend_aggregation.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using proxy_client::Backend;

Backend WithTotal(double total) {
  Backend backend;
  backend.total = total;
  return backend;
}

Backend Full(double base) {
  Backend backend;
  backend.protocol = "h2";
  backend.active = base;
  backend.total = base * 10;
  backend.connect_errors = base + 1;
  backend.handshake_errors = base + 2;
  backend.request_errors = base + 3;
  backend.connect_time_ms = base * 1.5;
  backend.pool_hits = base + 4;
  backend.pool_misses = base + 5;
  return backend;
}

proxy_client::Snapshot WithBackends(proxy_client::NamedValues<Backend> backends) {
  proxy_client::Snapshot snapshot;
  snapshot.backends = std::move(backends);
  return snapshot;
}

std::vector<std::string> KeptNames(
    const exporter::conversion::FoldedValues<proxy_client::Backend>& folded) {
  std::vector<std::string> names;
  for (const auto& entry : folded.kept) names.emplace_back(entry.name);
  return names;
}

}  // namespace

TEST_CASE("Backends are ranked by total, ties by name, a missing total as 0") {
  const auto snapshot = WithBackends({{"c", WithTotal(5)},
                                      {"b", Backend{}},
                                      {"a", WithTotal(5)},
                                      {"d", WithTotal(9)},
                                      {"e", WithTotal(0)}});
  exporter::conversion::BackendOptions options;
  options.max = 3;
  auto folded = exporter::conversion::AggregateBackends(snapshot, options);
  CHECK(KeptNames(folded) == std::vector<std::string>{"c", "a", "d"});
  CHECK(folded.folded == 2);
  REQUIRE(folded.other.has_value());
  CHECK(*folded.other->total == 0);  // "e"'s 0; "b" has none
  options.max = 4;
  folded = exporter::conversion::AggregateBackends(snapshot, options);
  CHECK(KeptNames(folded) == std::vector<std::string>{"c", "b", "a", "d"});  // "b" < "e"
}

TEST_CASE("Folded backends sum every count into other, without protocol or connect time") {
  const auto snapshot = WithBackends({{"big", Full(100)}, {"small", Full(1)}, {"tiny", Full(2)}});
  exporter::conversion::BackendOptions options;
  options.max = 1;
  const auto folded = exporter::conversion::AggregateBackends(snapshot, options);
  CHECK(KeptNames(folded) == std::vector<std::string>{"big"});
  CHECK(*folded.kept[0].value.connect_time_ms == 150);
  CHECK(*folded.kept[0].value.protocol == "h2");
  CHECK(folded.folded == 2);
  REQUIRE(folded.other.has_value());
  const Backend& other = *folded.other;
  CHECK(*other.active == 3);
  CHECK(*other.total == 30);
  CHECK(*other.connect_errors == 5);
  CHECK(*other.handshake_errors == 7);
  CHECK(*other.request_errors == 9);
  CHECK(*other.pool_hits == 11);
  CHECK(*other.pool_misses == 13);
  CHECK_FALSE(other.protocol.has_value());
  CHECK_FALSE(other.connect_time_ms.has_value());
}

TEST_CASE("Backend max 0 folds every backend; no backends, no other") {
  exporter::conversion::BackendOptions options;
  options.max = 0;
  const proxy_client::Snapshot two = WithBackends({{"a", Full(1)}, {"b", Full(2)}});
  auto folded = exporter::conversion::AggregateBackends(two, options);
  CHECK(folded.kept.empty());
  CHECK(folded.folded == 2);
  REQUIRE(folded.other.has_value());
  CHECK(*folded.other->total == 30);
  const proxy_client::Snapshot empty = WithBackends({});
  folded = exporter::conversion::AggregateBackends(empty, options);
  CHECK_FALSE(folded.other.has_value());
  const proxy_client::Snapshot without;
  folded = exporter::conversion::AggregateBackends(without, options);
  CHECK_FALSE(folded.other.has_value());
  CHECK(folded.folded == 0);
}

TEST_CASE("A backend really named other is merged into the folded other, not counted") {
  exporter::conversion::BackendOptions options;
  options.max = 1;
  const proxy_client::Snapshot snapshot =
      WithBackends({{"other", Full(1)}, {"a", Full(3)}, {"b", Full(2)}});
  const auto folded = exporter::conversion::AggregateBackends(snapshot, options);
  CHECK(KeptNames(folded) == std::vector<std::string>{"a"});
  CHECK(folded.folded == 1);
  CHECK(*folded.other->total == 30);
  CHECK_FALSE(folded.other->protocol.has_value());
}
