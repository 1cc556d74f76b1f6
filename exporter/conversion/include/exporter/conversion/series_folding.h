#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "page_memory/large_block.h"
#include "proxy_client/snapshot.h"

// Merging per-name entries (routes, client IPs) and folding the smallest into one "other"
// entry, so the exported series always add up to what the proxy reported.
namespace exporter::conversion {

// The label value of the folded entry. A real entry with this name is summed into it.
inline constexpr std::string_view kOtherLabelValue = "other";

struct SeriesEntry {
  // The label value, valid UTF-8: a name given to FindView, or one of FoldedSeries::owned_names.
  std::string_view name;
  std::optional<double> connections;              // active connections, when reported
  std::optional<proxy_client::InOut> throughput;  // bytes/s, when reported
};

// Valid while the names given to FindView are: the entries view them instead of copying.
// The vectors of a fold of 100k IPs take MBs for one scrape: each in a mapping of its own
// (page_memory/large_block.h), so that they are not resident after it.
struct FoldedSeries {
  page_memory::LargeVector<SeriesEntry> kept;  // in order of first appearance
  std::optional<SeriesEntry> other;            // name "other": the sum of everything not kept
  std::size_t folded = 0;               // distinct entries summed into `other` (not a real "other")
  std::deque<std::string> owned_names;  // the names stored by FindCopy (stable addresses)
};

struct FoldOptions {
  std::size_t keep = 0;                  // at most this many entries keep their own name
  bool keep_without_connections = true;  // false: entries with no connections always fold
  bool always_other = false;             // `other` even when nothing was folded
  bool connections_reported = false;     // `other` carries connections (0 when none folded)
  bool throughput_reported = false;      // `other` carries throughput (0 when none folded)
};

// Accumulates entries by name (equal names are summed, never duplicated), then keeps the
// `keep` entries with most active connections (ties: the bytewise smaller name) and sums the
// rest into "other". Single use; not thread-safe.
class SeriesFolder {
 public:
  using EntryId = std::uint32_t;

  explicit SeriesFolder(std::size_t expected_entries);

  // The entry named `name` (valid UTF-8), created if needed. FindView keeps a view: `name`
  // must outlive the folder and its FoldedSeries; FindCopy stores a copy.
  EntryId FindView(std::string_view name);
  EntryId FindCopy(std::string name);
  // As FindView, for a name that no earlier call gave (the names of one parsed map are
  // unique): while every entry came this way, it is appended without hashing or a lookup, and
  // the lookup table is built only if a Find* call needs it.
  EntryId FindViewOfUniqueName(std::string_view name);

  void AddConnections(EntryId id, double connections);
  void AddThroughput(EntryId id, proxy_client::InOut throughput);

  // The kept entries are the folder's own, compacted in place: no second copy of them.
  FoldedSeries Fold(const FoldOptions& options) &&;

 private:
  EntryId Find(std::string_view name, std::string* owned);
  void Insert(std::uint32_t index);
  void Grow();

  page_memory::LargeVector<SeriesEntry> entries_;
  page_memory::LargeVector<std::uint64_t> hashes_;  // per indexed entry
  page_memory::LargeVector<std::uint32_t> slots_;   // open addressing: entry index + 1, 0 = empty
  bool all_unique_ = true;                          // every entry came from FindViewOfUniqueName
  std::deque<std::string> owned_names_;             // stable addresses for FindCopy
};

// The entry of a raw name from the proxy: invalid UTF-8 repaired (a copy), a valid name viewed;
// `unique` as for SeriesFolder::FindViewOfUniqueName.
SeriesFolder::EntryId FindRawName(SeriesFolder* folder, std::string_view raw, bool unique);

// Folds the per-name connections and throughput of a snapshot (either may be null): `find(folder,
// raw name, unique)` returns the entry of a raw name, `unique` telling that no earlier call gave
// the same raw name (true for the connections map, whose names the parser made unique). A
// throughput entry at the same position and with the same raw name as a connections entry (the
// usual case) reuses its entry without a lookup. `fold`'s connections_reported and
// throughput_reported are set from which maps are present.
template <typename Find>
FoldedSeries FoldConnectionsAndThroughput(
    const proxy_client::NamedValues<double>* connections,
    const proxy_client::NamedValues<proxy_client::InOut>* throughput, Find find, FoldOptions fold) {
  SeriesFolder folder(connections != nullptr ? connections->size() : 0);
  page_memory::LargeVector<SeriesFolder::EntryId> ids;
  if (connections != nullptr) {
    ids.reserve(connections->size());
    for (const auto& [name, value] : *connections) {
      ids.push_back(find(&folder, name, true));
      folder.AddConnections(ids.back(), value);
    }
  }
  if (throughput != nullptr) {
    for (std::size_t i = 0; i < throughput->size(); ++i) {
      const auto& [name, value] = (*throughput)[i];
      const bool same = i < ids.size() && (*connections)[i].first == name;
      folder.AddThroughput(same ? ids[i] : find(&folder, name, false), value);
    }
  }
  fold.connections_reported = connections != nullptr;
  fold.throughput_reported = throughput != nullptr;
  return std::move(folder).Fold(fold);
}

}  // namespace exporter::conversion
