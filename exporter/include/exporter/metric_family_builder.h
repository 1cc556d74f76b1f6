#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

// Small helpers to build prometheus::MetricFamily values by hand (a custom Collectable
// bypasses prometheus-cpp's own name checks, so names are validated here).
namespace exporter {

// True for a valid metric-name prefix: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"
// (reserved for Prometheus' internal use).
bool IsValidMetricNamespace(std::string_view metric_namespace);

// True for a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);

// An empty family; `expected_samples` reserves room for that many samples.
prometheus::MetricFamily MakeFamily(std::string name, std::string help, prometheus::MetricType type,
                                    std::size_t expected_samples = 0);

// Appends a sample holding `value` in the field of the family's type (counter, gauge or
// untyped; asserts on others) and returns it so labels can be added.
prometheus::ClientMetric& AddSample(prometheus::MetricFamily* family, double value);

// Appends a label; the caller guarantees a valid name and a valid UTF-8 value.
void AddLabel(prometheus::ClientMetric* metric, std::string name, std::string value);

// A family with one unlabelled sample.
prometheus::MetricFamily MakeGauge(std::string name, std::string help, double value);
prometheus::MetricFamily MakeCounter(std::string name, std::string help, double value);

struct LabelView {
  std::string_view name;   // a valid label name
  std::string_view value;  // valid UTF-8
};

// Builds families one after another and hands each to a sink in parts of at most
// `max_part_samples` samples, as soon as a part is full or its family ends. The part's
// ClientMetrics (and their labels' storage) are reused for the next part unless the sink moved
// them away, so at most one part's samples are alive at a time and, once warm, a sample
// allocates nothing. Not thread-safe.
class MetricFamilyStream {
 public:
  // Receives one part: name, help and type are the family's; `first` is true for the first
  // part of each family (which a family with no samples still has). The sink may modify or
  // move from `part`; the stream resets it before reuse.
  using Sink = std::function<void(prometheus::MetricFamily& part, bool first)>;

  // `max_part_samples` is at least 1.
  MetricFamilyStream(std::size_t max_part_samples, Sink sink);

  // Ends the current family, if any, and starts the next; `expected_samples` sizes its part.
  void Begin(std::string_view name, std::string_view help, prometheus::MetricType type,
             std::size_t expected_samples);
  // Appends a sample to the current family: `value` in the field of its type (counter, gauge
  // or untyped; asserts on others) and exactly `labels`, in that order.
  void Add(double value, std::initializer_list<LabelView> labels = {});
  // Ends the current family: hands its last part to the sink.
  void End();

 private:
  void Flush();

  std::size_t max_part_samples_;
  Sink sink_;
  prometheus::MetricFamily part_;
  std::string name_;
  std::string help_;
  std::size_t used_ = 0;  // samples of part_.metric that belong to the current part
  bool open_ = false;     // a family was begun and not ended
  bool first_ = false;    // the next part handed over is its family's first
};

}  // namespace exporter
