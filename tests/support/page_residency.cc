#include "page_residency.h"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace test_support {

std::size_t ResidentPages(const void* data, std::size_t bytes) {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(data) / page * page;
  const std::size_t length = reinterpret_cast<std::uintptr_t>(data) + bytes - begin;
  std::vector<unsigned char> residency((length + page - 1) / page);
  REQUIRE(mincore(reinterpret_cast<void*>(begin), length, residency.data()) == 0);
  std::size_t resident = 0;
  for (const unsigned char state : residency) resident += state & 1;
  return resident;
}

bool KernelOffersHugePages() {
  std::ifstream enabled("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(enabled, line);
  return line.find("[always]") != std::string::npos || line.find("[madvise]") != std::string::npos;
}

std::uintptr_t KernelHugePageBytes() {
  std::ifstream size("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
  std::uintptr_t bytes = 0;
  size >> bytes;
  return bytes;
}

}  // namespace test_support
