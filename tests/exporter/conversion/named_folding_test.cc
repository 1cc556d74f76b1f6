#include "exporter/conversion/named_folding.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using exporter::conversion::FoldedValues;
using proxy_client::NamedValues;

struct Count {
  std::optional<double> n;
};

FoldedValues<Count> Fold(const NamedValues<Count>& entries, std::size_t keep) {
  return exporter::conversion::FoldNamedValues(
      entries, keep,
      [](const Count& from, Count* into) { exporter::conversion::AddOptional(from.n, &into->n); },
      [](const Count& value) { return exporter::conversion::RankValue(value.n); });
}

// The result views the names of `entries`: a temporary map would leave it dangling.
FoldedValues<Count> Fold(NamedValues<Count>&& entries, std::size_t keep) = delete;

std::vector<std::string> KeptNames(const FoldedValues<Count>& folded) {
  std::vector<std::string> names;
  for (const auto& entry : folded.kept) names.emplace_back(entry.name);
  return names;
}

}  // namespace

TEST_CASE("Named folding keeps the largest in the proxy's order and sums the rest into other") {
  const NamedValues<Count> entries{{"c", {{1}}}, {"a", {{5}}}, {"d", {{2}}}, {"b", {{4}}}};
  const auto folded = Fold(entries, 2);
  CHECK(KeptNames(folded) == std::vector<std::string>{"a", "b"});
  CHECK(*folded.kept[0].value.n == 5);
  CHECK(*folded.kept[1].value.n == 4);
  REQUIRE(folded.other.has_value());
  CHECK(*folded.other->n == 3);
  CHECK(folded.folded == 2);
}

TEST_CASE("Named folding breaks ties by the bytewise smaller name") {
  // "B" (0x42) sorts before "a" (0x61) bytewise; a missing number ranks as 0.
  const NamedValues<Count> entries{
      {"b", {{2}}}, {"a", {{2}}}, {"B", {{2}}}, {"z", {}}, {"y", {{0}}}};
  SUBCASE("among equal numbers") {
    const auto folded = Fold(entries, 2);
    CHECK(KeptNames(folded) == std::vector<std::string>{"a", "B"});
    CHECK(*folded.other->n == 2);
    CHECK(folded.folded == 3);
  }
  SUBCASE("a missing number ties with 0") {
    const auto folded = Fold(entries, 4);
    CHECK(KeptNames(folded) == std::vector<std::string>{"b", "a", "B", "y"});
    REQUIRE(folded.other.has_value());
    CHECK_FALSE(folded.other->n.has_value());  // only "z" folded, which has no number
    CHECK(folded.folded == 1);
  }
}

TEST_CASE("Named folding with keep 0 folds everything, and with room for all folds nothing") {
  const NamedValues<Count> entries{{"x", {{1}}}, {"y", {{2}}}};
  SUBCASE("keep 0") {
    const auto folded = Fold(entries, 0);
    CHECK(folded.kept.empty());
    REQUIRE(folded.other.has_value());
    CHECK(*folded.other->n == 3);
    CHECK(folded.folded == 2);
  }
  SUBCASE("keep as many as there are") {
    const auto folded = Fold(entries, 2);
    CHECK(KeptNames(folded) == std::vector<std::string>{"x", "y"});
    CHECK_FALSE(folded.other.has_value());
    CHECK(folded.folded == 0);
  }
  SUBCASE("nothing to fold") {
    const NamedValues<Count> none{};
    const auto folded = Fold(none, 0);
    CHECK(folded.kept.empty());
    CHECK_FALSE(folded.other.has_value());
    CHECK(folded.folded == 0);
  }
}

TEST_CASE("Named folding merges a real \"other\" with the folded one without counting it") {
  SUBCASE("with something folded") {
    const NamedValues<Count> entries{{"other", {{10}}}, {"a", {{1}}}, {"b", {{2}}}};
    const auto folded = Fold(entries, 1);
    CHECK(KeptNames(folded) == std::vector<std::string>{"b"});
    CHECK(*folded.other->n == 11);
    CHECK(folded.folded == 1);
  }
  SUBCASE("alone") {
    // A real "other" is not a candidate: it neither takes a place nor is counted.
    const NamedValues<Count> entries{{"a", {{1}}}, {"other", {{100}}}};
    const auto folded = Fold(entries, 1);
    CHECK(KeptNames(folded) == std::vector<std::string>{"a"});
    REQUIRE(folded.other.has_value());
    CHECK(*folded.other->n == 100);
    CHECK(folded.folded == 0);
  }
}

TEST_CASE("Named folding repairs invalid UTF-8 and merges names that become equal") {
  const std::string valid = "x\xef\xbf\xbd";  // "x" U+FFFD
  const std::string invalid = "x\xff";        // repairs to the same text
  const NamedValues<Count> entries{
      {valid, {{1}}}, {"y", {{7}}}, {invalid, {{2}}}, {"z\xc0", {{4}}}};
  const auto folded = Fold(entries, 10);
  CHECK(KeptNames(folded) == std::vector<std::string>{valid, "y", "z\xef\xbf\xbd"});
  CHECK(*folded.kept[0].value.n == 3);
  CHECK(*folded.kept[2].value.n == 4);
  CHECK_FALSE(folded.other.has_value());
  for (const auto& entry : folded.kept) CHECK(exporter::conversion::IsValidUtf8(entry.name));
}

TEST_CASE("Named folding ranks NaN last") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const NamedValues<Count> entries{{"n", {{nan}}}, {"a", {{0}}}, {"b", {{1}}}};
  const auto folded = Fold(entries, 2);
  CHECK(KeptNames(folded) == std::vector<std::string>{"a", "b"});
  CHECK(std::isnan(*folded.other->n));
}

TEST_CASE("Named folding keeps the sums exact over many names") {
  std::mt19937_64 rng(11);
  NamedValues<Count> entries;
  double total = 0;
  for (int i = 0; i < 5000; ++i) {
    const auto n = static_cast<double>(rng() % (1ull << 40));
    entries.emplace_back("backend-" + std::to_string(i), Count{n});
    total += n;
  }
  for (std::size_t keep : {std::size_t{0}, std::size_t{1}, std::size_t{20}, std::size_t{4999}}) {
    CAPTURE(keep);
    const auto folded = Fold(entries, keep);
    CHECK(folded.kept.size() == keep);
    CHECK(folded.folded == entries.size() - keep);
    double sum = folded.other ? folded.other->n.value_or(0) : 0;
    double smallest_kept = std::numeric_limits<double>::infinity();
    for (const auto& entry : folded.kept) {
      sum += *entry.value.n;
      smallest_kept = std::min(smallest_kept, *entry.value.n);
    }
    CHECK(sum == total);
    // Every folded entry is no larger than every kept one.
    std::set<std::string_view> kept;
    for (const auto& entry : folded.kept) kept.insert(entry.name);
    double largest_folded = -1;
    for (const auto& [name, value] : entries) {
      if (kept.count(name) == 0) largest_folded = std::max(largest_folded, *value.n);
    }
    CHECK(largest_folded <= smallest_kept);
  }
}
