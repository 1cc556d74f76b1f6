#pragma once

#include <string>
#include <string_view>

#include "exporter/collector/collector.h"

namespace exporter::web {

// The HTML of GET /: name, version, proxy socket, the last snapshot's status, and a link to the
// metrics. Every interpolated value is HTML-escaped.
std::string LandingPage(std::string_view telemetry_path, std::string_view proxy_socket,
                        const collector::SnapshotStatus& status);

// `text` with &, <, >, " and ' replaced by character references.
std::string HtmlEscape(std::string_view text);

}  // namespace exporter::web
