#pragma once

#include <vector>

#include <prometheus/metric_family.h>

namespace exporter {

// The standard process_* metrics of this process, read from /proc at call time:
// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds. A value that cannot be read
// is left out. Thread-safe.
std::vector<prometheus::MetricFamily> ProcessMetricFamilies();

}  // namespace exporter
