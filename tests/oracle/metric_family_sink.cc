#include "metric_family_sink.h"

#include <prometheus/text_serializer.h>

#include <stdexcept>

#include "exporter/conversion/text_buffer.h"
#include "exporter/conversion/text_writer.h"

namespace test_support {

using exporter::conversion::FamilyInfo;
using exporter::conversion::Label;
using exporter::conversion::MetricType;

void MetricFamilySink::Family(const FamilyInfo& family) {
  prometheus::MetricFamily& built = families.emplace_back();
  built.name = std::string(family.name);
  built.help = std::string(family.help);
  built.type = family.type == MetricType::kCounter ? prometheus::MetricType::Counter
                                                   : prometheus::MetricType::Gauge;
}

void MetricFamilySink::Sample(double value, std::initializer_list<Label> labels) {
  if (families.empty()) throw std::logic_error("a sample before any family");
  prometheus::MetricFamily& family = families.back();
  prometheus::ClientMetric& metric = family.metric.emplace_back();
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  for (const Label& label : labels) {
    metric.label.push_back({std::string(label.name), std::string(label.value)});
  }
}

std::string PrometheusCppText(const std::vector<prometheus::MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

void WriteFamilies(const std::vector<prometheus::MetricFamily>& families,
                   exporter::conversion::SampleSink* sink) {
  for (const auto& family : families) {
    const bool counter = family.type == prometheus::MetricType::Counter;
    if (!counter && family.type != prometheus::MetricType::Gauge &&
        family.type != prometheus::MetricType::Untyped) {
      throw std::logic_error("the conversion emits counters and gauges only");
    }
    sink->Family({family.name, family.help, counter ? MetricType::kCounter : MetricType::kGauge});
    for (const auto& metric : family.metric) {
      // At most three labels, as the conversion writes; enough for the random families too.
      if (metric.label.size() > 3) throw std::logic_error("more than three labels");
      std::vector<Label> labels;
      for (const auto& label : metric.label) labels.push_back({label.name, label.value});
      const double value = counter                                        ? metric.counter.value
                           : family.type == prometheus::MetricType::Gauge ? metric.gauge.value
                                                                          : metric.untyped.value;
      switch (labels.size()) {
        case 0:
          sink->Sample(value, {});
          break;
        case 1:
          sink->Sample(value, {labels[0]});
          break;
        case 2:
          sink->Sample(value, {labels[0], labels[1]});
          break;
        default:
          sink->Sample(value, {labels[0], labels[1], labels[2]});
          break;
      }
    }
  }
}

std::string WriterText(const std::vector<prometheus::MetricFamily>& families) {
  exporter::conversion::TextBuffer buffer;
  exporter::conversion::TextWriter writer(&buffer);
  WriteFamilies(families, &writer);
  return std::string(buffer.view());
}

}  // namespace test_support
