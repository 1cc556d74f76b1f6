#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>

#include "exporter/conversion/sample_sink.h"
#include "exporter/conversion/text_buffer.h"

// The two text flavours of the exposition.
namespace exporter::conversion {

enum class TextFormat {
  // Prometheus text format 0.0.4
  // (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
  kPrometheus,
  // OpenMetrics 1.0.0 (https://github.com/OpenObservability/OpenMetrics/blob/main/specification/
  // OpenMetrics.md): counter and info families named without their _total/_info suffix, a
  // `_created` sample after each counter sample whose family knows its start, `# UNIT` for
  // names that end in a base unit (_seconds, _bytes), NaN spelled "NaN", and `# EOF` (End).
  kOpenMetrics,
};
inline constexpr std::size_t kTextFormatCount = 2;  // for tables indexed by TextFormat

// Writes each family and sample straight into a TextBuffer. In the Prometheus flavour the bytes
// equal prometheus-cpp 1.0.1's TextSerializer on the same families (the tests' oracle), with one
// deliberate exception: HELP text is escaped (`\` and newline) as the format requires, which
// 1.0.1 omits; info families are written as gauges (0.0.4 has no info type). Never throws
// except std::bad_alloc. One writer per buffer; not thread-safe.
class TextWriter final : public SampleSink {
 public:
  explicit TextWriter(TextBuffer* out, TextFormat format = TextFormat::kPrometheus)
      : out_(out), format_(format) {}

  void Family(const FamilyInfo& family) override;
  void Sample(double value, std::initializer_list<Label> labels = {}) override;
  // Ends the exposition: `# EOF` in OpenMetrics, nothing in the Prometheus flavour. Written
  // once, after the last family of the whole response.
  void End();

 private:
  void WriteSample(std::string_view name, double value, std::initializer_list<Label> labels);

  TextBuffer* out_;
  TextFormat format_;
  std::string name_;     // the current family's samples' name
  std::string created_;  // OpenMetrics: its `_created` samples' name, empty when none
  double created_seconds_ = 0;
};

}  // namespace exporter::conversion
