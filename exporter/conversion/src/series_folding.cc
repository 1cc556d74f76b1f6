#include "exporter/conversion/series_folding.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

#include "exporter/conversion/label_value.h"
#include "proxy_client/name_hash.h"

namespace exporter::conversion {
namespace {

std::size_t SlotCountFor(std::size_t entries) {
  std::size_t slots = 16;
  while (slots < 2 * entries) slots *= 2;
  return slots;
}

template <typename From>
void AddInto(const From& from, SeriesEntry* to) {
  if (from.connections) to->connections = to->connections.value_or(0.0) + *from.connections;
  if (from.throughput) {
    proxy_client::InOut sum = to->throughput.value_or(proxy_client::InOut{});
    sum.in += from.throughput->in;
    sum.out += from.throughput->out;
    to->throughput = sum;
  }
}

}  // namespace

SeriesFolder::SeriesFolder(std::size_t expected_entries) { entries_.reserve(expected_entries); }

// Puts the indexed entry `index` (its hash in hashes_) into a slot; the table has room.
void SeriesFolder::Insert(std::uint32_t index) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t slot = hashes_[index] & mask;
  while (slots_[slot] != 0) slot = (slot + 1) & mask;
  slots_[slot] = index + 1;
}

void SeriesFolder::Grow() {
  slots_.assign(slots_.empty() ? SlotCountFor(entries_.capacity()) : slots_.size() * 2, 0);
  for (std::uint32_t i = 0; i < hashes_.size(); ++i) Insert(i);
}

SeriesFolder::EntryId SeriesFolder::Find(std::string_view name, std::string* owned) {
  if (all_unique_) {
    // The first lookup: index the entries appended without one.
    all_unique_ = false;
    hashes_.reserve(entries_.capacity());
    for (const SeriesEntry& entry : entries_) hashes_.push_back(proxy_client::HashName(entry.name));
    while (slots_.size() < 2 * (entries_.size() + 1)) Grow();
    for (std::uint32_t i = 0; i < hashes_.size(); ++i) Insert(i);
  }
  const std::uint64_t hash = proxy_client::HashName(name);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = hash & mask; slots_[slot] != 0; slot = (slot + 1) & mask) {
    const std::uint32_t index = slots_[slot] - 1;
    if (hashes_[index] == hash && entries_[index].name == name) return index;
  }
  if (2 * (entries_.size() + 1) > slots_.size()) Grow();
  if (owned != nullptr) name = owned_names_.emplace_back(std::move(*owned));
  const auto index = static_cast<EntryId>(entries_.size());
  hashes_.push_back(hash);
  entries_.push_back(SeriesEntry{name, {}, {}});
  Insert(index);
  return index;
}

SeriesFolder::EntryId SeriesFolder::FindViewOfUniqueName(std::string_view name) {
  if (!all_unique_) return Find(name, nullptr);
  const auto index = static_cast<EntryId>(entries_.size());
  entries_.push_back(SeriesEntry{name, {}, {}});
  return index;
}

SeriesFolder::EntryId SeriesFolder::FindView(std::string_view name) { return Find(name, nullptr); }

SeriesFolder::EntryId SeriesFolder::FindCopy(std::string name) {
  const std::string_view view = name;
  return Find(view, &name);
}

void SeriesFolder::AddConnections(EntryId id, double connections) {
  auto& entry = entries_[id];
  entry.connections = entry.connections.value_or(0.0) + connections;
}

void SeriesFolder::AddThroughput(EntryId id, proxy_client::InOut throughput) {
  auto& entry = entries_[id];
  proxy_client::InOut sum = entry.throughput.value_or(proxy_client::InOut{});
  sum.in += throughput.in;
  sum.out += throughput.out;
  entry.throughput = sum;
}

FoldedSeries SeriesFolder::Fold(const FoldOptions& options) && {
  // The lookup tables are done with; freed before the ranking allocates.
  decltype(hashes_)().swap(hashes_);
  decltype(slots_)().swap(slots_);
  FoldedSeries result;
  SeriesEntry other{kOtherLabelValue, {}, {}};
  bool real_other = false;
  // Candidates for a name of their own, as (rank key, index) pairs; NaN (impossible from the
  // parser, possible in a hand-made Snapshot) ranks last so the order stays strict weak.
  page_memory::LargeVector<std::pair<double, EntryId>> ranked;
  ranked.reserve(entries_.size());
  std::vector<bool> is_folded(entries_.size(), false);
  for (EntryId i = 0; i < entries_.size(); ++i) {
    const SeriesEntry& entry = entries_[i];
    if (entry.name == kOtherLabelValue) {
      AddInto(entry, &other);
      real_other = true;
    } else if (options.keep_without_connections || entry.connections) {
      const double key = entry.connections.value_or(0.0);
      ranked.emplace_back(std::isnan(key) ? -std::numeric_limits<double>::infinity() : key, i);
    } else {
      is_folded[i] = true;
      ++result.folded;
    }
  }
  const std::size_t keep = std::min(options.keep, ranked.size());
  if (keep < ranked.size()) {
    const auto by_rank = [this](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first > b.first;
      return entries_[a.second].name < entries_[b.second].name;
    };
    std::nth_element(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep),
                     ranked.end(), by_rank);
    for (std::size_t i = keep; i < ranked.size(); ++i) is_folded[ranked[i].second] = true;
    result.folded += ranked.size() - keep;
  }
  // Summed in order of first appearance: deterministic whatever the selection did (and exact
  // anyway for the protocol's integer counts, below 2^53).
  if (result.folded > 0) {
    for (EntryId i = 0; i < entries_.size(); ++i) {
      if (is_folded[i]) AddInto(entries_[i], &other);
    }
  }

  // The kept, in order of first appearance, moved to the front: neither folded nor "other".
  std::size_t kept = 0;
  for (EntryId i = 0; i < entries_.size(); ++i) {
    if (!is_folded[i] && entries_[i].name != kOtherLabelValue) entries_[kept++] = entries_[i];
  }
  assert(kept == keep);
  entries_.resize(kept);
  if (kept < entries_.capacity() / 2) entries_.shrink_to_fit();  // a top-N of many
  result.kept = std::move(entries_);
  result.owned_names = std::move(owned_names_);
  if (result.folded > 0 || options.always_other) {
    if (options.connections_reported && !other.connections) other.connections = 0.0;
    if (options.throughput_reported && !other.throughput) other.throughput = proxy_client::InOut{};
  }
  if (result.folded > 0 || options.always_other || real_other) result.other = other;
  return result;
}

SeriesFolder::EntryId FindRawName(SeriesFolder* folder, std::string_view raw, bool unique) {
  if (!IsValidUtf8(raw)) return folder->FindCopy(ToValidUtf8(raw));
  return unique ? folder->FindViewOfUniqueName(raw) : folder->FindView(raw);
}

}  // namespace exporter::conversion
