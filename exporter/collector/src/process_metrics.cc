#include "exporter/collector/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

namespace exporter::collector {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_time_seconds = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

std::optional<double> BootTimeSeconds() {
  FILE* file = std::fopen("/proc/stat", "r");
  if (file == nullptr) return std::nullopt;
  char line[256];
  std::optional<double> boot_time;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    unsigned long long seconds = 0;
    if (std::sscanf(line, "btime %llu", &seconds) == 1) {
      boot_time = static_cast<double>(seconds);
      break;
    }
  }
  std::fclose(file);
  return boot_time;
}

// Fields of /proc/self/stat as in proc(5): utime(14) stime(15) starttime(22) vsize(23) rss(24).
std::optional<ProcStat> ReadProcStat() {
  FILE* file = std::fopen("/proc/self/stat", "r");
  if (file == nullptr) return std::nullopt;
  char buffer[1024];
  const std::size_t length = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  buffer[length] = '\0';
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  const char* after_name = std::strrchr(buffer, ')');
  if (after_name == nullptr) return std::nullopt;
  unsigned long long utime = 0, stime = 0, start_ticks = 0, vsize = 0;
  long long rss_pages = 0;
  const int matched = std::sscanf(after_name + 2,
                                  "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
                                  "%*d %*d %*d %*d %llu %llu %lld",
                                  &utime, &stime, &start_ticks, &vsize, &rss_pages);
  if (matched != 5) return std::nullopt;
  const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcStat stat;
  stat.cpu_seconds = static_cast<double>(utime + stime) / ticks_per_second;
  // The boot time never changes; /proc/stat is long on a many-core machine, so read it once.
  static const std::optional<double> boot_time = BootTimeSeconds();
  stat.start_time_seconds =
      boot_time ? *boot_time + static_cast<double>(start_ticks) / ticks_per_second : 0;
  stat.virtual_bytes = static_cast<double>(vsize);
  stat.resident_bytes = static_cast<double>(rss_pages) * page_size;
  return stat;
}

std::optional<double> OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // not the descriptor of the directory being read
}

}  // namespace

void WriteProcessMetrics(conversion::SampleSink* sink) {
  using conversion::MetricType;
  if (const auto stat = ReadProcStat()) {
    sink->Single({"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                  MetricType::kCounter},
                 stat->cpu_seconds);
    sink->Single({"process_resident_memory_bytes", "Resident memory size in bytes."},
                 stat->resident_bytes);
    sink->Single({"process_virtual_memory_bytes", "Virtual memory size in bytes."},
                 stat->virtual_bytes);
    if (stat->start_time_seconds > 0) {
      sink->Single(
          {"process_start_time_seconds", "Start time of the process since unix epoch in seconds."},
          stat->start_time_seconds);
    }
  }
  if (const auto fds = OpenFds()) {
    sink->Single({"process_open_fds", "Number of open file descriptors."}, *fds);
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    sink->Single({"process_max_fds", "Maximum number of open file descriptors."},
                 static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace exporter::collector
