#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy_client/snapshot.h"

// Merging per-name entries (routes, client IPs) and folding the smallest into one "other"
// entry, so the exported series always add up to what the proxy reported.
namespace exporter {

// The label value of the folded entry. A real entry with this name is summed into it.
inline constexpr std::string_view kOtherLabelValue = "other";

struct SeriesEntry {
  std::string name;                               // label value, valid UTF-8
  std::optional<double> connections;              // active connections, when reported
  std::optional<proxy_client::InOut> throughput;  // bytes/s, when reported
};

struct FoldedSeries {
  std::vector<SeriesEntry> kept;     // most active connections first, ties by name (bytewise)
  std::optional<SeriesEntry> other;  // name "other": the sum of everything not kept
  std::size_t folded = 0;            // distinct entries summed into `other` (not a real "other")
};

struct FoldOptions {
  std::size_t keep = 0;                  // at most this many entries keep their own name
  bool keep_without_connections = true;  // false: entries with no connections always fold
  bool always_other = false;             // `other` even when nothing was folded
  bool connections_reported = false;     // `other` carries connections (0 when none folded)
  bool throughput_reported = false;      // `other` carries throughput (0 when none folded)
};

// Accumulates entries by name (equal names are summed, never duplicated), then folds.
// Single use; not thread-safe.
class SeriesFolder {
 public:
  explicit SeriesFolder(std::size_t expected_entries);

  // Adds to the entry `name` (valid UTF-8), creating it if needed.
  void AddConnections(std::string_view name, double connections);
  void AddThroughput(std::string_view name, proxy_client::InOut throughput);

  // Ranks the entries by active connections (then name) and keeps the first `options.keep`.
  FoldedSeries Fold(const FoldOptions& options) &&;

 private:
  SeriesEntry& Find(std::string_view name);
  void Grow();

  std::vector<SeriesEntry> entries_;
  std::vector<std::uint64_t> hashes_;  // per entry
  std::vector<std::uint32_t> slots_;   // open addressing: entry index + 1, 0 = empty
  std::optional<SeriesEntry> other_;   // a real entry named "other"
};

}  // namespace exporter
