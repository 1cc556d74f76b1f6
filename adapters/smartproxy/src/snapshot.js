// Builds one protocol v1 snapshot object (docs/snapshot-protocol.md) from a SmartProxy instance.
// Pure apart from calling the proxy's getters; the HTTP layer serialises what this returns.
import { openSource } from './sources.js';
import { topEntries, topEntriesFromList } from './top_ips.js';
import {
  counterValue, emptyNameMap, entryCount, entryValue, gaugeMap, gaugeValue, isCollection,
  pairMap, quantiles, throughputPair,
} from './values.js';

/** The snapshot cannot be built (a required field is missing or invalid). */
export class SnapshotError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/**
 * Returns the v1 snapshot of `proxy` as a plain object ready for JSON.stringify.
 * options.ipLimit: undefined for every IP, else N >= 0 (?ips=N).
 * options.identity: the `proxy` group ({name, version?, instance, startTime}).
 * options.now: the timestamp, ms since the epoch (default Date.now()).
 * options.countDistinctIPs: also call byIP() for distinctIPs when topIPs() serves ?ips=N.
 * Throws ProxyGetterError when a getter throws, SnapshotError when a required field is unusable.
 */
export function buildSnapshot(proxy, options = {}) {
  const now = options.now ?? Date.now();
  const source = openSource(proxy);
  const snapshot = { schemaVersion: 1, timestamp: now };
  if (options.identity !== undefined) snapshot.proxy = options.identity;

  const connections = buildConnections(source, options);
  snapshot.connections = connections.group;
  setIfPresent(snapshot, 'requests', buildRequests(source));
  if (source.bytes) {
    const bytes = source.bytes();
    // Both or neither (protocol v1 rule 1), each an integer counter (rule 3).
    const inBytes = counterValue(bytes?.in);
    const outBytes = counterValue(bytes?.out);
    if (inBytes !== undefined && outBytes !== undefined) snapshot.bytes = { in: inBytes, out: outBytes };
  }
  setIfPresent(snapshot, 'throughput', buildThroughput(source, options.ipLimit, connections.selectedIPs));
  setIfPresent(snapshot, 'percentiles', buildPercentiles(source));
  return snapshot;
}

function buildConnections(source, { ipLimit, countDistinctIPs = false }) {
  // active and total are required by the protocol: without them there is no valid snapshot, and
  // a 500 naming the cause tells the operator more than a document the exporter must reject.
  const active = source.connectionsActive ? gaugeValue(source.connectionsActive()) : undefined;
  if (active === undefined) {
    throw new SnapshotError(source.connectionsActive
      ? 'connections.active is not a finite non-negative number'
      : 'the proxy has no active-connections getter');
  }
  const total = source.connectionsTotal ? counterValue(source.connectionsTotal()) : undefined;
  if (total === undefined) {
    throw new SnapshotError(source.connectionsTotal
      ? 'connections.total is not a finite non-negative number'
      : 'the proxy has no total-connections getter');
  }
  const group = { active, total };
  if (source.connectionsByRoute) {
    const byRoute = source.connectionsByRoute();
    if (isCollection(byRoute)) group.byRoute = gaugeMap(byRoute);
  }

  const ips = selectIPs(source, ipLimit, countDistinctIPs);
  if (ips.byIP !== undefined) group.byIP = ips.byIP;
  if (ips.distinctIPs !== undefined) group.distinctIPs = ips.distinctIPs;
  return { group, selectedIPs: ips.selected };
}

// Returns { byIP?, distinctIPs?, selected? } where `selected` lists the IPs kept under ?ips=N
// (undefined when every IP is returned). The full byIP() map is only asked for when it is needed:
// with no limit, or with a limit and no topIPs(); distinctIPs comes from that map's size, which is
// then free. With topIPs() the map is fetched for counting only if countDistinctIPs asks for it.
function selectIPs(source, ipLimit, countDistinctIPs) {
  if (ipLimit === undefined) {
    if (!source.connectionsByIP) return {};
    const all = source.connectionsByIP();
    if (!isCollection(all)) return {};
    return { byIP: gaugeMap(all), distinctIPs: entryCount(all) };
  }

  let entries;
  let distinctIPs;
  if (source.topIPs) {
    entries = ipLimit > 0 ? topEntriesFromList(source.topIPs(ipLimit), ipLimit) : [];
    if (countDistinctIPs && source.connectionsByIP) distinctIPs = entryCount(source.connectionsByIP());
  } else if (source.connectionsByIP) {
    const all = source.connectionsByIP();
    if (!isCollection(all)) return {};
    entries = topEntries(all, ipLimit);
    distinctIPs = entryCount(all);
  } else {
    return {};
  }
  const byIP = emptyNameMap();
  for (const [ip, count] of entries) byIP[ip] = count;
  return { byIP, distinctIPs, selected: entries.map(([ip]) => ip) };
}

function buildRequests(source) {
  const requests = {};
  if (source.requestsTotal) setIfPresent(requests, 'total', counterValue(source.requestsTotal()));
  if (source.requestsPerSecond) setIfPresent(requests, 'perSecond', gaugeValue(source.requestsPerSecond()));
  if (source.requestsPerMinute) setIfPresent(requests, 'perMinute', gaugeValue(source.requestsPerMinute()));
  return nonEmpty(requests);
}

function buildThroughput(source, ipLimit, selectedIPs) {
  const throughput = {};
  if (source.throughputInstant) setIfPresent(throughput, 'instant', throughputPair(source.throughputInstant()));
  if (source.throughputRecent) setIfPresent(throughput, 'recent', throughputPair(source.throughputRecent()));
  if (source.throughputAverage) setIfPresent(throughput, 'average', throughputPair(source.throughputAverage()));
  if (source.throughputByRoute) {
    const byRoute = source.throughputByRoute();
    if (isCollection(byRoute)) throughput.byRoute = pairMap(byRoute);
  }
  if (source.throughputByIP) {
    if (ipLimit === undefined) {
      const byIP = source.throughputByIP();
      if (isCollection(byIP)) throughput.byIP = pairMap(byIP);
    } else if (selectedIPs !== undefined) {
      // Same IPs as connections.byIP (protocol: ?ips=N limits both). With none selected the
      // proxy's map is not even built.
      const byIP = emptyNameMap();
      const all = selectedIPs.length > 0 ? source.throughputByIP() : undefined;
      for (const ip of selectedIPs) setIfPresent(byIP, ip, throughputPair(entryValue(all, ip)));
      throughput.byIP = byIP;
    }
  }
  return nonEmpty(throughput);
}

function buildPercentiles(source) {
  const percentiles = {};
  if (source.connectionDurationPercentiles) {
    setIfPresent(percentiles, 'connectionDurationMs', quantiles(source.connectionDurationPercentiles()));
  }
  if (source.bytesTransferredPercentiles) {
    const transferred = source.bytesTransferredPercentiles();
    if (transferred !== null && typeof transferred === 'object') {
      const bytesTransferred = {};
      setIfPresent(bytesTransferred, 'in', quantiles(transferred.in));
      setIfPresent(bytesTransferred, 'out', quantiles(transferred.out));
      setIfPresent(percentiles, 'bytesTransferred', nonEmpty(bytesTransferred));
    }
  }
  return nonEmpty(percentiles);
}

function setIfPresent(target, key, value) {
  if (value !== undefined) target[key] = value;
}

function nonEmpty(group) {
  for (const _ in group) return group;
  return undefined;
}
