#include "exporter/collector/build_info.h"

namespace exporter::collector {

std::string_view BuildVersion() { return SMARTPROXY_EXPORTER_VERSION; }
std::string_view BuildRevision() { return SMARTPROXY_EXPORTER_REVISION; }

}  // namespace exporter::collector
