#pragma once

#include "exporter/conversion/metrics_options.h"
#include "exporter/conversion/named_folding.h"
#include "proxy_client/snapshot.h"

// Per-domain request rates, limited to `domains.top`.
namespace exporter::conversion {

// The domains of `requests.byDomain` by (UTF-8-repaired) name, equal names summed. The
// `options.top` domains with most requests per minute (then per second, then the bytewise
// smaller name; a missing rate counts as 0) are kept, in the proxy's order; the rest are summed
// into "other", present only when something was folded or a domain is really named "other".
// Empty without `requests.byDomain`. The result refers to the names of `snapshot`.
FoldedValues<proxy_client::DomainRequests> AggregateDomains(const proxy_client::Snapshot& snapshot,
                                                            const DomainOptions& options);
// A temporary snapshot would leave the result viewing freed names.
FoldedValues<proxy_client::DomainRequests> AggregateDomains(proxy_client::Snapshot&& snapshot,
                                                            const DomainOptions& options) = delete;

}  // namespace exporter::conversion
