#include "exporter/collector/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string_view>

namespace exporter::collector {
namespace {

// The process's CPU time, user and system, of every thread (dead ones included), in ns
// resolution. /proc/self/stat has it in clock ticks, and reading it makes the kernel walk every
// thread for a dozen other fields (civetweb runs hundreds of threads), on every scrape.
std::optional<double> CpuSeconds() {
  timespec cpu{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) != 0) return std::nullopt;
  return static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9;
}

// The start of the file at `path`, up to `size - 1` bytes, NUL-terminated in `buffer`; nullopt
// when it cannot be read. A proc file is generated when read, so one read of a buffer larger
// than the file returns all of it.
std::optional<std::string_view> ReadProcFile(const char* path, char* buffer, std::size_t size) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  ssize_t length = 0;
  do {
    length = read(fd, buffer, size - 1);
  } while (length < 0 && errno == EINTR);
  close(fd);
  if (length < 0) return std::nullopt;
  buffer[length] = '\0';
  return std::string_view(buffer, static_cast<std::size_t>(length));
}

struct MemoryBytes {
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

// /proc/self/statm, proc(5): "size resident shared text lib data dt" in pages; size and
// resident are the vsize and rss of /proc/self/stat, without its walk over the threads.
std::optional<MemoryBytes> ReadMemory() {
  char buffer[256];
  const auto text = ReadProcFile("/proc/self/statm", buffer, sizeof buffer);
  if (!text) return std::nullopt;
  unsigned long long size_pages = 0;
  unsigned long long resident_pages = 0;
  const char* const end = text->data() + text->size();
  const auto size = std::from_chars(text->data(), end, size_pages);
  if (size.ec != std::errc() || size.ptr == end || *size.ptr != ' ') return std::nullopt;
  const auto resident = std::from_chars(size.ptr + 1, end, resident_pages);
  if (resident.ec != std::errc()) return std::nullopt;
  const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  return MemoryBytes{static_cast<double>(size_pages) * page_size,
                     static_cast<double>(resident_pages) * page_size};
}

std::optional<double> BootTimeSeconds() {
  // /proc/stat is long on a many-core machine (a line per CPU, one number per interrupt):
  // read line by line rather than into a buffer of a guessed size.
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

// Boot time plus starttime, field 22 of /proc/self/stat in proc(5) (clock ticks after boot).
std::optional<double> StartTimeSeconds() {
  const std::optional<double> boot_time = BootTimeSeconds();
  if (!boot_time) return std::nullopt;
  char buffer[1024];
  const auto text = ReadProcFile("/proc/self/stat", buffer, sizeof buffer);
  if (!text) return std::nullopt;
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  const char* after_name = std::strrchr(buffer, ')');
  if (after_name == nullptr || after_name[1] == '\0') return std::nullopt;
  unsigned long long start_ticks = 0;
  if (std::sscanf(after_name + 2,
                  "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d "
                  "%llu",
                  &start_ticks) != 1) {
    return std::nullopt;
  }
  return *boot_time + static_cast<double>(start_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Entries of /proc/self/fd, read with getdents64 into a buffer on the stack: opendir would add
// an fstat and a 32 KiB allocation on every scrape.
std::optional<double> OpenFds() {
  const int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  alignas(dirent64) char buffer[8192];
  double count = 0;
  ssize_t length = 0;
  do {
    length = getdents64(fd, buffer, sizeof buffer);
    for (ssize_t offset = 0; offset < length;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + offset);
      if (entry->d_name[0] != '.') ++count;
      offset += entry->d_reclen;
    }
  } while (length > 0 || (length < 0 && errno == EINTR));
  close(fd);
  if (length < 0) return std::nullopt;
  return count - 1;  // not the descriptor of the directory being read
}

}  // namespace

std::optional<double> ProcessStartTimeSeconds() {
  // The start time never changes: read once, on the first call.
  static const std::optional<double> start_time_seconds = StartTimeSeconds();
  return start_time_seconds;
}

void WriteProcessMetrics(conversion::SampleSink* sink) {
  using conversion::MetricType;
  const std::optional<double> start_time_seconds = ProcessStartTimeSeconds();
  if (const auto cpu_seconds = CpuSeconds()) {
    sink->Single({"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                  MetricType::kCounter, start_time_seconds},
                 *cpu_seconds);
  }
  if (const auto memory = ReadMemory()) {
    sink->Single({"process_resident_memory_bytes", "Resident memory size in bytes."},
                 memory->resident_bytes);
    sink->Single({"process_virtual_memory_bytes", "Virtual memory size in bytes."},
                 memory->virtual_bytes);
  }
  if (start_time_seconds) {
    sink->Single(
        {"process_start_time_seconds", "Start time of the process since unix epoch in seconds."},
        *start_time_seconds);
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
