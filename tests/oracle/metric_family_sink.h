#pragma once

#include <prometheus/metric_family.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "exporter/conversion/sample_sink.h"

// The conversion's test oracle: the samples the conversion emits, built into prometheus-cpp's
// data model so that prometheus-cpp's own TextSerializer can judge the bytes our TextWriter
// writes. No doctest here: the benchmarks use it too.
namespace test_support {

// Builds one prometheus::MetricFamily per Family call; info families become gauges (the data
// model of prometheus-cpp 1.0.1 has no info type, and text 0.0.4 writes them as gauges).
class MetricFamilySink final : public exporter::conversion::SampleSink {
 public:
  void Family(const exporter::conversion::FamilyInfo& family) override;
  void Sample(double value, std::initializer_list<exporter::conversion::Label> labels) override;

  std::vector<prometheus::MetricFamily> families;
};

// prometheus-cpp 1.0.1's TextSerializer.
std::string PrometheusCppText(const std::vector<prometheus::MetricFamily>& families);

// Feeds counter, gauge and untyped families (untyped as gauge) back through a SampleSink.
void WriteFamilies(const std::vector<prometheus::MetricFamily>& families,
                   exporter::conversion::SampleSink* sink);
// Their text as our TextWriter writes it.
std::string WriterText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace test_support
