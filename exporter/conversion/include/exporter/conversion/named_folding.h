#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exporter/conversion/label_value.h"
#include "exporter/conversion/series_folding.h"
#include "proxy_client/name_hash.h"
#include "proxy_client/snapshot.h"

// Folding per-name records of several fields (backends, domains, protocols) into a bounded set
// of label values plus one "other", as SeriesFolder does for the routes' and IPs' numbers.
namespace exporter::conversion {

template <typename Value>
struct NamedEntry {
  std::string_view name;  // the label value, valid UTF-8: a snapshot name or one of owned_names
  Value value;
};

// Valid while the names that were folded are: the entries view them instead of copying.
template <typename Value>
struct FoldedValues {
  std::vector<NamedEntry<Value>> kept;  // in order of first appearance
  std::optional<Value> other;           // name "other": everything not kept, and a real "other"
  std::size_t folded = 0;               // distinct entries summed into `other` (not a real "other")
  std::deque<std::string> owned_names;  // names repaired to valid UTF-8 (stable addresses)
};

// The rank of an optional number: absent counts as 0; NaN (impossible from the parser, possible
// in a hand-made Snapshot) ranks last, so that ranking stays a strict weak order.
inline double RankValue(const std::optional<double>& value) {
  const double number = value.value_or(0.0);
  return std::isnan(number) ? -std::numeric_limits<double>::infinity() : number;
}

// `*into` + `from` when `from` is present (an absent `*into` counts as 0); else `*into` as is.
inline void AddOptional(const std::optional<double>& from, std::optional<double>* into) {
  if (from) *into = into->value_or(0.0) + *from;
}

// Folds the records of one snapshot map:
// - each name becomes a label value (invalid UTF-8 repaired); records with equal label values
//   are merged with `add(const Value& from, Value* into)`, never exported twice;
// - the `keep` records with the greatest `rank(const Value&)` keep their name (ties: the
//   bytewise smaller name), in the map's order; all others are added into "other", counted in
//   `folded`. `keep` 0 folds every record;
// - a real record named "other" is added into "other" too, without being counted;
// - `other` is present when something was folded or a record is really named "other".
// The result views the names of `entries`: keep them alive while using it.
template <typename Value, typename Add, typename Rank>
FoldedValues<Value> FoldNamedValues(const proxy_client::NamedValues<Value>& entries,
                                    std::size_t keep, Add add, Rank rank) {
  struct NameHash {
    std::size_t operator()(std::string_view name) const { return proxy_client::HashName(name); }
  };
  FoldedValues<Value> result;
  std::vector<NamedEntry<Value>> merged;
  merged.reserve(entries.size());
  std::optional<Value> other;
  // The names of one map are unique (the model's rule), and so are their label values while
  // every name is valid UTF-8: no lookup needed. A repaired name may equal another one, so from
  // the first repair on every name is looked up in a table hashed with the seeded HashName (the
  // names are untrusted).
  std::unordered_map<std::string_view, std::size_t, NameHash> index;
  bool indexed = false;
  for (const auto& [raw, value] : entries) {
    std::string repaired;
    std::string_view name = raw;
    if (!IsValidUtf8(raw)) {
      repaired = ToValidUtf8(raw);
      name = repaired;
      if (!indexed) {
        index.reserve(entries.size());
        for (std::size_t i = 0; i < merged.size(); ++i) index.emplace(merged[i].name, i);
        indexed = true;
      }
    }
    if (name == kOtherLabelValue) {
      if (other) {
        add(value, &*other);
      } else {
        other = value;
      }
      continue;
    }
    if (indexed) {
      if (const auto found = index.find(name); found != index.end()) {
        add(value, &merged[found->second].value);
        continue;
      }
      if (!repaired.empty()) name = result.owned_names.emplace_back(std::move(repaired));
      index.emplace(name, merged.size());
    }
    merged.push_back(NamedEntry<Value>{name, value});
  }
  std::unordered_map<std::string_view, std::size_t, NameHash>().swap(index);

  std::vector<bool> is_folded(merged.size(), false);
  if (keep < merged.size()) {
    using Key = decltype(rank(merged.front().value));
    std::vector<std::pair<Key, std::size_t>> ranked;
    ranked.reserve(merged.size());
    for (std::size_t i = 0; i < merged.size(); ++i) ranked.emplace_back(rank(merged[i].value), i);
    const auto by_rank = [&merged](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first > b.first;
      return merged[a.second].name < merged[b.second].name;
    };
    std::nth_element(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep),
                     ranked.end(), by_rank);
    for (std::size_t i = keep; i < ranked.size(); ++i) is_folded[ranked[i].second] = true;
    result.folded = merged.size() - keep;
    // Summed in the map's order: deterministic whatever the selection did.
    if (!other) other = Value{};
    for (std::size_t i = 0; i < merged.size(); ++i) {
      if (is_folded[i]) add(merged[i].value, &*other);
    }
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    if (is_folded[i]) continue;
    if (kept != i) merged[kept] = std::move(merged[i]);
    ++kept;
  }
  merged.resize(kept);
  result.kept = std::move(merged);
  result.other = std::move(other);
  return result;
}

// A temporary map would leave the result viewing freed names.
template <typename Value, typename Add, typename Rank>
FoldedValues<Value> FoldNamedValues(proxy_client::NamedValues<Value>&& entries, std::size_t keep,
                                    Add add, Rank rank) = delete;

}  // namespace exporter::conversion
