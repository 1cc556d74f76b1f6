// The two generations of SmartProxy's in-process metrics API, read through one shape. Each
// accessor below exists only if the proxy has the method behind it (feature detection, never a
// version string); snapshot.js leaves out every field whose accessor is missing.
//
//   IMetrics    = proxy.getMetrics()  (SmartProxy >= 19.6.7; shapes read from 21.1.3's metrics-types.ts)
//   IProxyStats = proxy.getStats()    (SmartProxy <= 19.6.2)

/** Thrown when a proxy method throws; its message names the method, for the 500 body. */
export class ProxyGetterError extends Error {
  constructor(label, cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${label} threw: ${reason}`, { cause });
    this.name = 'ProxyGetterError';
  }
}

function callGetter(label, invoke) {
  try {
    return invoke();
  } catch (error) {
    throw new ProxyGetterError(label, error);
  }
}

// A method of `group` as a function that names itself in errors, or undefined if it is absent.
// Called as a method (this = group): SmartProxy's groups are object literals, a class may not be.
function accessor(group, name, label) {
  if (group === null || (typeof group !== 'object' && typeof group !== 'function')) return undefined;
  if (typeof group[name] !== 'function') return undefined;
  return (...args) => callGetter(label, () => group[name](...args));
}

/** Which API generation the proxy offers: 'metrics', 'stats' or undefined. */
export function detectApi(proxy) {
  if (proxy === null || (typeof proxy !== 'object' && typeof proxy !== 'function')) return undefined;
  if (typeof proxy.getMetrics === 'function') return 'metrics';
  if (typeof proxy.getStats === 'function') return 'stats';
  return undefined;
}

/**
 * Reads the proxy's API once and returns its accessors. Throws ProxyGetterError if
 * getMetrics()/getStats() throws, and Error if the proxy has neither.
 */
export function openSource(proxy) {
  switch (detectApi(proxy)) {
    case 'metrics':
      return metricsSource(callGetter('getMetrics()', () => proxy.getMetrics()));
    case 'stats':
      return statsSource(callGetter('getStats()', () => proxy.getStats()));
    default:
      throw new Error('the proxy has neither getMetrics() nor getStats()');
  }
}

function metricsSource(metrics) {
  const group = (name) => (metrics !== null && typeof metrics === 'object' ? metrics[name] : undefined);
  const connections = group('connections');
  const throughput = group('throughput');
  const requests = group('requests');
  const totals = group('totals');
  const percentiles = group('percentiles');
  const bytesIn = accessor(totals, 'bytesIn', 'totals.bytesIn()');
  const bytesOut = accessor(totals, 'bytesOut', 'totals.bytesOut()');
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
    bytes: bytesIn && bytesOut ? () => ({ in: bytesIn(), out: bytesOut() }) : undefined,
    throughputInstant: accessor(throughput, 'instant', 'throughput.instant()'),
    throughputRecent: accessor(throughput, 'recent', 'throughput.recent()'),
    throughputAverage: accessor(throughput, 'average', 'throughput.average()'),
    throughputByRoute: accessor(throughput, 'byRoute', 'throughput.byRoute()'),
    throughputByIP: accessor(throughput, 'byIP', 'throughput.byIP()'),
    connectionDurationPercentiles: accessor(
      percentiles, 'connectionDuration', 'percentiles.connectionDuration()'),
    bytesTransferredPercentiles: accessor(
      percentiles, 'bytesTransferred', 'percentiles.bytesTransferred()'),
  };
}

function statsSource(stats) {
  const throughput = accessor(stats, 'getThroughput', 'getThroughput()');
  return {
    connectionsActive: accessor(stats, 'getActiveConnections', 'getActiveConnections()'),
    connectionsTotal: accessor(stats, 'getTotalConnections', 'getTotalConnections()'),
    connectionsByRoute: accessor(stats, 'getConnectionsByRoute', 'getConnectionsByRoute()'),
    connectionsByIP: accessor(stats, 'getConnectionsByIP', 'getConnectionsByIP()'),
    topIPs: accessor(stats, 'getTopIPs', 'getTopIPs()'),
    requestsPerSecond: accessor(stats, 'getRequestsPerSecond', 'getRequestsPerSecond()'),
    // getThroughput() is cumulative bytes since start ({bytesIn, bytesOut}), not a rate: it maps
    // to the bytes counters, and this generation has no throughput rates at all.
    bytes: throughput
      ? () => {
          const value = throughput();
          return value !== null && typeof value === 'object'
            ? { in: value.bytesIn, out: value.bytesOut }
            : undefined;
        }
      : undefined,
  };
}
