#include "exporter/conversion/series_folding.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using exporter::conversion::FoldOptions;
using exporter::conversion::SeriesFolder;

TEST_CASE("Names appended without a lookup are found by later lookups") {
  SeriesFolder folder(4);
  const auto a = folder.FindViewOfUniqueName("a");
  const auto b = folder.FindViewOfUniqueName("b");
  CHECK(a != b);
  CHECK(folder.FindView("a") == a);  // the first lookup indexes what was appended before
  CHECK(folder.FindView("b") == b);
  const auto c = folder.FindView("c");
  CHECK(c != a);
  CHECK(c != b);
  // After a lookup, a "unique" name is looked up too, so it can never be a duplicate.
  CHECK(folder.FindViewOfUniqueName("c") == c);
}

TEST_CASE("A repaired name that equals a valid one is one entry, whatever the order") {
  const std::string valid = "x\xef\xbf\xbd";  // "x" U+FFFD
  const std::string invalid = "x\xff";        // repairs to the same text
  SeriesFolder folder(4);
  const auto first = exporter::conversion::FindRawName(&folder, invalid, true);
  const auto second = exporter::conversion::FindRawName(&folder, valid, true);
  CHECK(first == second);
  folder.AddConnections(first, 1);
  folder.AddConnections(second, 2);
  FoldOptions options;
  options.keep = 10;
  const auto folded = std::move(folder).Fold(options);
  REQUIRE(folded.kept.size() == 1);
  CHECK(*folded.kept[0].connections == 3);
}

TEST_CASE("Many names appended without lookups, then looked up, keep their entries") {
  std::vector<std::string> names;
  for (int i = 0; i < 5000; ++i)
    names.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  SeriesFolder folder(16);  // grows past the expected size
  std::vector<SeriesFolder::EntryId> ids;
  for (const auto& name : names) ids.push_back(folder.FindViewOfUniqueName(name));
  for (std::size_t i = 0; i < names.size(); i += 7) CHECK(folder.FindView(names[i]) == ids[i]);
  CHECK(folder.FindView("new") == static_cast<SeriesFolder::EntryId>(names.size()));
}
