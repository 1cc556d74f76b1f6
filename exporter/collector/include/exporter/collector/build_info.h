#pragma once

#include <string_view>

namespace exporter::collector {

// The exporter's version (CMake project version) and git revision, fixed at build time.
std::string_view BuildVersion();
std::string_view BuildRevision();

}  // namespace exporter::collector
