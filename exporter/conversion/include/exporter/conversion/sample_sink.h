#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>

// The seam between what the metrics are (the conversion) and how they are written (a text
// flavour, or prometheus-cpp's data model in the tests): the conversion walks its input once
// and hands every family and sample to a SampleSink.
namespace exporter::conversion {

enum class MetricType {
  kCounter,  // the name ends in _total
  kGauge,
  kInfo,  // a gauge that is always 1, labelled with what it describes; the name ends in _info.
          // Text format 0.0.4 has no info type and writes a gauge; OpenMetrics writes `info`.
};

struct FamilyInfo {
  std::string_view name;  // a valid metric name, the complete name of the samples
  std::string_view help;  // any text; the sink escapes it
  MetricType type = MetricType::kGauge;
  // Counters: when every sample of the family started counting from zero (seconds since the
  // Unix epoch), where that is known. OpenMetrics writes it as the `_created` sample.
  std::optional<double> created_seconds = std::nullopt;
};

struct Label {
  std::string_view name;   // a valid label name
  std::string_view value;  // valid UTF-8; the sink escapes it
};

// Receives families one after another, each followed by its samples. Views passed in are valid
// for the call only. Not thread-safe unless an implementation says so.
class SampleSink {
 public:
  virtual ~SampleSink() = default;

  // Starts a family; the samples until the next Family call are its own (none is allowed).
  virtual void Family(const FamilyInfo& family) = 0;
  // One sample of the current family with exactly `labels`, in that order. Label sets are
  // unique within a family: the caller guarantees it.
  virtual void Sample(double value, std::initializer_list<Label> labels = {}) = 0;

  // A family with one unlabelled sample.
  void Single(const FamilyInfo& family, double value) {
    Family(family);
    Sample(value);
  }
};

}  // namespace exporter::conversion
