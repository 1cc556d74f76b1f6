// Fake SmartProxy instances, built to the published shapes of both metrics API generations.
//   IMetrics (getMetrics()): @push.rocks/smartproxy 21.1.3, ts/proxies/smart-proxy/models/metrics-types.ts
//     (connections and throughput groups as published; requests/totals/percentiles as in issue 4).
//   IProxyStats (getStats()): SmartProxy <= 19.6.2, as described in issue 4.
// Every method returns what its real counterpart returns: numbers, Maps, {in, out} objects.

/** The numbers a fake IMetrics proxy reports, chosen so each lands somewhere recognisable. */
export function sampleMetricsData() {
  return {
    active: 42,
    total: 123456,
    byRoute: new Map([['api', 30], ['web', 12]]),
    byIP: new Map([['203.0.113.7', 3], ['2001:db8::1', 1], ['198.51.100.4', 7]]),
    instant: { in: 1000, out: 2000 },
    recent: { in: 900, out: 1800 },
    average: { in: 800, out: 1600 },
    throughputByRoute: new Map([['api', { in: 10, out: 20 }], ['web', { in: 5, out: 6 }]]),
    throughputByIP: new Map([
      ['203.0.113.7', { in: 1, out: 2 }],
      ['2001:db8::1', { in: 3, out: 4 }],
      ['198.51.100.4', { in: 5, out: 6 }],
    ]),
    perSecond: 12.5,
    perMinute: 700,
    requestsTotal: 99999,
    bytesIn: 123456789,
    bytesOut: 987654321,
    totalConnections: 123456,
    connectionDuration: { p50: 120, p95: 900, p99: 2500 },
    bytesTransferred: { in: { p50: 1, p95: 2, p99: 3 }, out: { p50: 4, p95: 5, p99: 6 } },
  };
}

// SmartProxy's own topIPs: a full sort of byIP() (what 21.x is believed to do; the adapter does
// not depend on it).
function sortedTopIPs(byIP, limit = 10) {
  return Array.from(byIP.entries())
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([ip, count]) => ({ ip, count }));
}

/**
 * A proxy with getMetrics() returning IMetrics. `data` overrides sampleMetricsData();
 * `omit` lists 'group.method' names to delete (methods missing on purpose), e.g.
 * ['connections.topIPs', 'percentiles'] (a whole group by its name).
 */
export function fakeMetricsProxy(data = sampleMetricsData(), { omit = [] } = {}) {
  const metrics = {
    connections: {
      active: () => data.active,
      total: () => data.total,
      byRoute: () => data.byRoute,
      byIP: () => data.byIP,
      topIPs: (limit = 10) => sortedTopIPs(data.byIP, limit),
    },
    throughput: {
      instant: () => ({ ...data.instant }),
      recent: () => ({ ...data.recent }),
      average: () => ({ ...data.average }),
      custom: (_seconds) => ({ ...data.recent }),
      history: (_seconds) => [],
      byRoute: (_windowSeconds = 1) => data.throughputByRoute,
      byIP: (_windowSeconds = 1) => data.throughputByIP,
    },
    requests: {
      perSecond: () => data.perSecond,
      perMinute: () => data.perMinute,
      total: () => data.requestsTotal,
    },
    totals: {
      bytesIn: () => data.bytesIn,
      bytesOut: () => data.bytesOut,
      connections: () => data.totalConnections,
    },
    percentiles: {
      connectionDuration: () => ({ ...data.connectionDuration }),
      bytesTransferred: () => ({ in: { ...data.bytesTransferred.in }, out: { ...data.bytesTransferred.out } }),
    },
  };
  for (const name of omit) {
    const [group, method] = name.split('.');
    if (method === undefined) delete metrics[group];
    else delete metrics[group][method];
  }
  return { metrics, getMetrics: () => metrics };
}

/** The numbers a fake IProxyStats proxy reports. */
export function sampleStatsData() {
  return {
    active: 17,
    total: 5000,
    byRoute: new Map([['legacy', 17]]),
    byIP: new Map([['192.0.2.1', 10], ['192.0.2.2', 5], ['192.0.2.3', 2]]),
    requestsPerSecond: 3.25,
    throughput: { bytesIn: 4096, bytesOut: 8192 },
  };
}

/**
 * A proxy with getStats() returning IProxyStats (class-style, methods on the prototype, like
 * SmartProxy's MetricsCollector). `withTopIPs` adds getTopIPs(limit); `omit` deletes methods.
 */
export function fakeStatsProxy(data = sampleStatsData(), { withTopIPs = false, omit = [] } = {}) {
  class FakeStats {
    getActiveConnections() { return data.active; }
    getTotalConnections() { return data.total; }
    getConnectionsByRoute() { return new Map(data.byRoute); }
    getConnectionsByIP() { return new Map(data.byIP); }
    getRequestsPerSecond() { return data.requestsPerSecond; }
    getThroughput() { return { ...data.throughput }; }
  }
  const stats = new FakeStats();
  if (withTopIPs) stats.getTopIPs = (limit = 10) => sortedTopIPs(data.byIP, limit);
  for (const name of omit) {
    // Shadow the prototype method with a non-function so feature detection sees it missing.
    stats[name] = undefined;
  }
  return { stats, getStats: () => stats };
}

/** A fake IMetrics proxy with `count` client IPs (for the cost benchmark and large tests). */
export function fakeProxyWithClients(count, { withTopIPs = true } = {}) {
  const data = sampleMetricsData();
  data.byIP = new Map();
  data.throughputByIP = new Map();
  for (let i = 0; i < count; i += 1) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const connections = 1 + ((i * 2654435761) % 97);
    data.byIP.set(ip, connections);
    data.throughputByIP.set(ip, { in: connections * 100, out: connections * 250 });
  }
  data.active = [...data.byIP.values()].reduce((sum, n) => sum + n, 0);
  return fakeMetricsProxy(data, { omit: withTopIPs ? [] : ['connections.topIPs'] });
}
