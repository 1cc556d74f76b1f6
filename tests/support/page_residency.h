#pragma once

#include <cstddef>
#include <cstdint>

// What the kernel says about memory, read independently of page_memory's own readings, for the
// tests of what page_memory gives back.
namespace test_support {

// How many pages of [data, data + bytes) are resident, by mincore(2): the kernel's own answer,
// not a reading of RSS, which other threads of the test binary move.
std::size_t ResidentPages(const void* data, std::size_t bytes);

// Whether /sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise".
bool KernelOffersHugePages();

// /sys/kernel/mm/transparent_hugepage/hpage_pmd_size; 0 when the kernel has none.
std::uintptr_t KernelHugePageBytes();

}  // namespace test_support
