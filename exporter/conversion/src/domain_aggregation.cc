#include "exporter/conversion/domain_aggregation.h"

#include <utility>

namespace exporter::conversion {
namespace {

using proxy_client::DomainRequests;

void AddDomain(const DomainRequests& from, DomainRequests* into) {
  AddOptional(from.per_second, &into->per_second);
  AddOptional(from.per_minute, &into->per_minute);
}

}  // namespace

FoldedValues<DomainRequests> AggregateDomains(const proxy_client::Snapshot& snapshot,
                                              const DomainOptions& options) {
  if (!snapshot.requests || !snapshot.requests->by_domain) return {};
  return FoldNamedValues(
      *snapshot.requests->by_domain, options.top, &AddDomain, [](const DomainRequests& domain) {
        return std::pair(RankValue(domain.per_minute), RankValue(domain.per_second));
      });
}

}  // namespace exporter::conversion
