#include "exporter/conversion/domain_aggregation.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using proxy_client::DomainRequests;

proxy_client::Snapshot WithDomains(proxy_client::NamedValues<DomainRequests> domains) {
  proxy_client::Snapshot snapshot;
  snapshot.requests.emplace();
  snapshot.requests->by_domain = std::move(domains);
  return snapshot;
}

std::vector<std::string> KeptNames(const exporter::conversion::FoldedValues<DomainRequests>& f) {
  std::vector<std::string> names;
  for (const auto& entry : f.kept) names.emplace_back(entry.name);
  return names;
}

}  // namespace

TEST_CASE("Domains are ranked by requests per minute, then per second, then name") {
  const auto snapshot = WithDomains({{"d.example", {1, 60}},
                                     {"c.example", {5, 60}},
                                     {"b.example", {5, 60}},
                                     {"a.example", {100, std::nullopt}},
                                     {"e.example", {std::nullopt, 600}}});
  exporter::conversion::DomainOptions options;
  options.top = 3;
  const auto folded = exporter::conversion::AggregateDomains(snapshot, options);
  // e (600/min), then c and b (60/min, 5/s; b before c by name); d has 1/s; a no perMinute.
  CHECK(KeptNames(folded) == std::vector<std::string>{"c.example", "b.example", "e.example"});
  CHECK(folded.folded == 2);
  REQUIRE(folded.other.has_value());
  CHECK(*folded.other->per_second == 101);
  CHECK(*folded.other->per_minute == 60);
}

TEST_CASE("Domain top 0 folds every domain; other only when something was folded") {
  exporter::conversion::DomainOptions options;
  options.top = 0;
  const proxy_client::Snapshot two = WithDomains({{"a", {1, 2}}, {"b", {3, 4}}});
  auto folded = exporter::conversion::AggregateDomains(two, options);
  CHECK(folded.kept.empty());
  CHECK(folded.folded == 2);
  CHECK(*folded.other->per_second == 4);
  CHECK(*folded.other->per_minute == 6);
  options.top = 20;
  const proxy_client::Snapshot one = WithDomains({{"a", {1, 2}}});
  folded = exporter::conversion::AggregateDomains(one, options);
  CHECK(KeptNames(folded) == std::vector<std::string>{"a"});
  CHECK_FALSE(folded.other.has_value());
  SUBCASE("a real other is merged") {
    const proxy_client::Snapshot with_other =
        WithDomains({{"other", {1, 60}}, {"a", {2, 120}}, {"b", {3, 180}}});
    folded = exporter::conversion::AggregateDomains(with_other, {1});
    CHECK(KeptNames(folded) == std::vector<std::string>{"b"});
    CHECK(folded.folded == 1);
    CHECK(*folded.other->per_minute == 180);
  }
  SUBCASE("no byDomain, no domains") {
    proxy_client::Snapshot snapshot;
    snapshot.requests.emplace();
    folded = exporter::conversion::AggregateDomains(snapshot, options);
    CHECK(folded.kept.empty());
    CHECK_FALSE(folded.other.has_value());
  }
}
