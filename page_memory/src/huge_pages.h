#pragma once

#include <cstdint>

// The page sizes page_memory works in, shared by its sources.
namespace page_memory::detail {

std::uintptr_t PageBytes();
// The size of a transparent huge page (2 MiB on x86-64); 0 when the kernel has none.
std::uintptr_t HugePageBytes();

inline std::uintptr_t RoundUp(std::uintptr_t value, std::uintptr_t unit) {
  return (value + unit - 1) / unit * unit;
}
inline std::uintptr_t RoundDown(std::uintptr_t value, std::uintptr_t unit) {
  return value / unit * unit;
}

}  // namespace page_memory::detail
