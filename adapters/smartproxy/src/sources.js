// The generations of SmartProxy's in-process metrics API, read through one shape. Each accessor
// below exists only if the proxy has the method behind it (feature detection, never a version
// string); snapshot.js leaves out every field whose accessor is missing. An accessor is
// { label, call(...args) }: `label` names the getter in errors and in adapter.skipped, `call`
// invokes it as a method (this = its group) and returns whatever it returns, value or Promise.
//
//   IMetrics    = proxy.getMetrics()  (SmartProxy >= 19.6.7; 21.1.3's metrics-types.ts; 27.x groups
//                                      backends/protocols/udp/requests.byDomain: our best reading of
//                                      its changelog, unverified against a live 27.x, see README)
//   IProxyStats = proxy.getStats()    (SmartProxy <= 19.6.2)

/** A getter of a required field failed; the message names the getter, for the 500 body. */
export class SnapshotError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'SnapshotError';
  }
}

/** A getter threw, rejected or missed the deadline; its message names the getter. */
export class ProxyGetterError extends SnapshotError {
  constructor(label, reason, options) {
    super(`${label} ${reason}`, options);
    this.name = 'ProxyGetterError';
  }
}

/** The `adapter.api` names of the two generations. */
export const kApiNames = Object.freeze({ metrics: 'IMetrics', stats: 'IProxyStats' });

/** Which API generation the proxy offers: 'metrics', 'stats' or undefined. */
export function detectApi(proxy) {
  if (proxy === null || (typeof proxy !== 'object' && typeof proxy !== 'function')) return undefined;
  if (typeof proxy.getMetrics === 'function') return 'metrics';
  if (typeof proxy.getStats === 'function') return 'stats';
  return undefined;
}

/**
 * The root accessor of the proxy's API: getMetrics() or getStats(), as { api, accessor }.
 * Throws SnapshotError if the proxy has neither.
 */
export function rootAccessor(proxy) {
  const api = detectApi(proxy);
  if (api === undefined) throw new SnapshotError('the proxy has neither getMetrics() nor getStats()');
  const name = api === 'metrics' ? 'getMetrics' : 'getStats';
  return { api, accessor: accessor(proxy, name, `${name}()`) };
}

/** The accessors of one generation over the object getMetrics()/getStats() gave. */
export function openSource(api, root) {
  return api === 'metrics' ? metricsSource(root) : statsSource(root);
}

// A method of `group` as an accessor, or undefined if it is absent. Called as a method (this =
// group): SmartProxy's groups are object literals, a class may not be. A property that throws
// when read counts as absent here and never reaches the proxy's caller.
function accessor(group, name, label) {
  let method;
  try {
    if (group === null || (typeof group !== 'object' && typeof group !== 'function')) return undefined;
    method = group[name];
  } catch {
    return undefined;
  }
  if (typeof method !== 'function') return undefined;
  return { label, call: (...args) => method.apply(group, args) };
}

// `acc` whose numeric result (value or Promise) is multiplied by `factor`; anything else passes
// through unchanged, for the snapshot's number checks to refuse.
function scaled(acc, factor) {
  if (acc === undefined) return undefined;
  const scale = (value) => (typeof value === 'number' ? value * factor : value);
  return {
    label: acc.label,
    call: (...args) => {
      const value = acc.call(...args);
      return value !== null && typeof value === 'object' && typeof value.then === 'function'
        ? Promise.resolve(value).then(scale)
        : scale(value);
    },
  };
}

function member(object, name) {
  try {
    return object !== null && typeof object === 'object' ? object[name] : undefined;
  } catch {
    return undefined;
  }
}

function metricsSource(metrics) {
  const connections = member(metrics, 'connections');
  const throughput = member(metrics, 'throughput');
  const requests = member(metrics, 'requests');
  const totals = member(metrics, 'totals');
  const percentiles = member(metrics, 'percentiles');
  const backends = member(metrics, 'backends');
  const protocols = member(metrics, 'protocols');
  const udp = member(metrics, 'udp');
  return {
    connectionsActive: accessor(connections, 'active', 'connections.active()'),
    // connections.total() is the documented source; totals.connections() is the same count.
    connectionsTotal:
      accessor(connections, 'total', 'connections.total()') ??
      accessor(totals, 'connections', 'totals.connections()'),
    connectionsByRoute: accessor(connections, 'byRoute', 'connections.byRoute()'),
    connectionsByIP: accessor(connections, 'byIP', 'connections.byIP()'),
    topIPs: accessor(connections, 'topIPs', 'connections.topIPs()'),
    requestsTotal: accessor(requests, 'total', 'requests.total()'),
    requestsPerSecond: accessor(requests, 'perSecond', 'requests.perSecond()'),
    requestsPerMinute: accessor(requests, 'perMinute', 'requests.perMinute()'),
    requestsByDomain: accessor(requests, 'byDomain', 'requests.byDomain()'),
    bytesIn: accessor(totals, 'bytesIn', 'totals.bytesIn()'),
    bytesOut: accessor(totals, 'bytesOut', 'totals.bytesOut()'),
    throughputInstant: accessor(throughput, 'instant', 'throughput.instant()'),
    throughputRecent: accessor(throughput, 'recent', 'throughput.recent()'),
    throughputAverage: accessor(throughput, 'average', 'throughput.average()'),
    throughputByRoute: accessor(throughput, 'byRoute', 'throughput.byRoute()'),
    throughputByIP: accessor(throughput, 'byIP', 'throughput.byIP()'),
    connectionDurationPercentiles: accessor(
      percentiles, 'connectionDuration', 'percentiles.connectionDuration()'),
    bytesTransferredPercentiles: accessor(
      percentiles, 'bytesTransferred', 'percentiles.bytesTransferred()'),
    // 27.x (25.10.0: "per-backend connection, error, protocol, and pool metrics"; the TypeScript
    // side gained "backend listings"): a map keyed by backend, or a listing of records.
    backends:
      accessor(backends, 'byBackend', 'backends.byBackend()') ??
      accessor(backends, 'list', 'backends.list()'),
    // 27.x data plane: "frontend/backend protocol active and total counters".
    protocolsFrontend: accessor(protocols, 'frontend', 'protocols.frontend()'),
    protocolsBackend: accessor(protocols, 'backend', 'protocols.backend()'),
    // 27.x data plane: active_udp_sessions, total_udp_sessions (datagram counts: our guess).
    udpActiveSessions: accessor(udp, 'activeSessions', 'udp.activeSessions()'),
    udpTotalSessions: accessor(udp, 'totalSessions', 'udp.totalSessions()'),
    udpDatagramsIn: accessor(udp, 'datagramsIn', 'udp.datagramsIn()'),
    udpDatagramsOut: accessor(udp, 'datagramsOut', 'udp.datagramsOut()'),
  };
}

function statsSource(stats) {
  return {
    connectionsActive: accessor(stats, 'getActiveConnections', 'getActiveConnections()'),
    connectionsTotal: accessor(stats, 'getTotalConnections', 'getTotalConnections()'),
    connectionsByRoute: accessor(stats, 'getConnectionsByRoute', 'getConnectionsByRoute()'),
    connectionsByIP: accessor(stats, 'getConnectionsByIP', 'getConnectionsByIP()'),
    topIPs: accessor(stats, 'getTopIPs', 'getTopIPs()'),
    // SmartProxy's 19.x metrics plan: the requests of the last 60 s divided by 60, so it is the
    // 60 s window (requests.perMinute = value * 60), never requests.perSecond.
    requestsPerMinute: scaled(accessor(stats, 'getRequestsPerSecond', 'getRequestsPerSecond()'), 60),
    // The same plan: the sum of bytesReceived/bytesSent over the connections open now. It falls
    // when a connection closes, so it is openConnectionBytes (a gauge), never the bytes counters.
    openConnectionBytes: accessor(stats, 'getThroughput', 'getThroughput()'),
  };
}
