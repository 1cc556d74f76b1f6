#pragma once

#include <optional>

#include "exporter/conversion/sample_sink.h"

namespace exporter::collector {

// Writes the standard process_* metrics of this process, read at call time (the start time on
// the first call only): process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds.
// A value that cannot be read is left out. Thread-safe for distinct sinks.
// process_cpu_seconds_total carries the process's start as its created time (OpenMetrics).
void WriteProcessMetrics(conversion::SampleSink* sink);

// When this process started, in seconds since the Unix epoch (boot time plus the start in
// /proc/self/stat), read on the first call; nullopt when /proc cannot tell.
std::optional<double> ProcessStartTimeSeconds();

}  // namespace exporter::collector
