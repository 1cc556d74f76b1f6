#pragma once

#include <initializer_list>
#include <string>

#include "exporter/conversion/sample_sink.h"
#include "exporter/conversion/text_buffer.h"

// Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
namespace exporter::conversion {

// Writes each family and sample straight into a TextBuffer. The bytes equal prometheus-cpp
// 1.0.1's TextSerializer on the same families (the tests' oracle), with one deliberate
// exception: HELP text is escaped (`\` and newline) as the format requires, which 1.0.1 omits.
// Info families are written as gauges (0.0.4 has no info type). Never throws except
// std::bad_alloc. One writer per buffer; not thread-safe.
class TextWriter final : public SampleSink {
 public:
  explicit TextWriter(TextBuffer* out) : out_(out) {}

  void Family(const FamilyInfo& family) override;
  void Sample(double value, std::initializer_list<Label> labels = {}) override;

 private:
  TextBuffer* out_;
  std::string name_;  // the current family's
};

}  // namespace exporter::conversion
