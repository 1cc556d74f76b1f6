#include "exporter/series_folding.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>

namespace exporter {
namespace {

std::size_t SlotCountFor(std::size_t entries) {
  std::size_t slots = 16;
  while (slots < 2 * entries) slots *= 2;
  return slots;
}

// Ranking key; NaN (impossible from the parser, possible in a hand-made Snapshot) sorts last
// so the comparison stays a strict weak order.
double RankKey(const SeriesEntry& entry) {
  double value = entry.connections.value_or(0.0);
  return std::isnan(value) ? -std::numeric_limits<double>::infinity() : value;
}

void AddInto(const SeriesEntry& from, SeriesEntry* to) {
  if (from.connections) to->connections = to->connections.value_or(0.0) + *from.connections;
  if (from.throughput) {
    proxy_client::InOut sum = to->throughput.value_or(proxy_client::InOut{});
    sum.in += from.throughput->in;
    sum.out += from.throughput->out;
    to->throughput = sum;
  }
}

}  // namespace

SeriesFolder::SeriesFolder(std::size_t expected_entries) {
  entries_.reserve(expected_entries);
  hashes_.reserve(expected_entries);
  slots_.assign(SlotCountFor(expected_entries), 0);
}

void SeriesFolder::Grow() {
  slots_.assign(slots_.size() * 2, 0);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    std::size_t slot = hashes_[i] & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = static_cast<std::uint32_t>(i + 1);
  }
}

SeriesEntry& SeriesFolder::Find(std::string_view name) {
  if (name == kOtherLabelValue) {
    if (!other_) other_ = SeriesEntry{std::string(kOtherLabelValue), {}, {}};
    return *other_;
  }
  const std::uint64_t hash = std::hash<std::string_view>{}(name);
  std::size_t mask = slots_.size() - 1;
  std::size_t slot = hash & mask;
  while (slots_[slot] != 0) {
    std::size_t index = slots_[slot] - 1;
    if (hashes_[index] == hash && entries_[index].name == name) return entries_[index];
    slot = (slot + 1) & mask;
  }
  if (2 * (entries_.size() + 1) > slots_.size()) {
    Grow();
    mask = slots_.size() - 1;
    slot = hash & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
  }
  slots_[slot] = static_cast<std::uint32_t>(entries_.size() + 1);
  hashes_.push_back(hash);
  return entries_.emplace_back(SeriesEntry{std::string(name), {}, {}});
}

void SeriesFolder::AddConnections(std::string_view name, double connections) {
  SeriesEntry& entry = Find(name);
  entry.connections = entry.connections.value_or(0.0) + connections;
}

void SeriesFolder::AddThroughput(std::string_view name, proxy_client::InOut throughput) {
  AddInto(SeriesEntry{{}, {}, throughput}, &Find(name));
}

FoldedSeries SeriesFolder::Fold(const FoldOptions& options) && {
  FoldedSeries result;
  // Candidates for a name of their own, as (key, index) pairs for a cache-friendly sort.
  std::vector<std::pair<double, std::uint32_t>> ranked;
  ranked.reserve(entries_.size());
  std::vector<std::uint32_t> always_folded;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (options.keep_without_connections || entries_[i].connections) {
      ranked.emplace_back(RankKey(entries_[i]), static_cast<std::uint32_t>(i));
    } else {
      always_folded.push_back(static_cast<std::uint32_t>(i));
    }
  }
  auto by_rank = [this](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return entries_[a.second].name < entries_[b.second].name;
  };
  const std::size_t keep = std::min(options.keep, ranked.size());
  if (keep < ranked.size()) {
    std::nth_element(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep),
                     ranked.end(), by_rank);
  }
  std::sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep), by_rank);

  result.kept.reserve(keep);
  for (std::size_t i = 0; i < keep; ++i) {
    result.kept.push_back(std::move(entries_[ranked[i].second]));
  }

  const bool real_other = other_.has_value();
  SeriesEntry other =
      real_other ? std::move(*other_) : SeriesEntry{std::string(kOtherLabelValue), {}, {}};
  // Sum in rank order, then the unranked in document order: deterministic, and exact for the
  // integer counts of the protocol (below 2^53).
  for (std::size_t i = keep; i < ranked.size(); ++i) AddInto(entries_[ranked[i].second], &other);
  for (std::uint32_t index : always_folded) AddInto(entries_[index], &other);
  result.folded = ranked.size() - keep + always_folded.size();

  if (result.folded > 0 || options.always_other) {
    if (options.connections_reported && !other.connections) other.connections = 0.0;
    if (options.throughput_reported && !other.throughput) other.throughput = proxy_client::InOut{};
  }
  if (result.folded > 0 || options.always_other || real_other) result.other = std::move(other);
  return result;
}

}  // namespace exporter
