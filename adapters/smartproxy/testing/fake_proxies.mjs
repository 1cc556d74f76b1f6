// Fake SmartProxy instances, one per API generation the adapter reads:
//   21.1.3, IMetrics (getMetrics()), synchronous, Maps: fakeMetricsProxy. From @push.rocks/smartproxy
//     21.1.3, ts/proxies/smart-proxy/models/metrics-types.ts (connections and throughput groups as
//     published; requests/totals/percentiles as in issue 4).
//   19.6.2, IProxyStats (getStats()): FakeSmartProxy1962, a live connection table whose statistics
//     are computed the way SmartProxy's 19.x metrics plan (readme.metrics.md) describes them;
//     fakeStatsProxy is a fixed-number variant of the same shape for field-by-field tests.
//   27.x-like, IMetrics with async getters, plain objects and the 1.1 groups (backends, protocols,
//     udp, requests.byDomain): fakeProxy27. Our best reading of the 27.x changelog, not a
//     published type; the adapter's default method names are exactly the ones used here.

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

/**
 * The i-th of `count` distinct client addresses of a realistic mix (for grouping by network):
 * two in three IPv4 spread over many /24s, one in twelve of those IPv4-mapped IPv6
 * (::ffff:a.b.c.d, as a dual-stack socket reports them), the rest IPv6 in compressed, full
 * (leading zeros) and upper-case forms, mostly one per /64, some /64s shared.
 */
export function mixedClientAddress(i) {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  if (i % 3 !== 2) {
    // An odd multiplier is a bijection modulo 2^24: the lower 24 bits never repeat.
    const low = (Math.imul(i, 0x9e3779) + 0x5bd1e9) & 0xffffff;
    const v4 = `${[203, 198, 192, 100, 81, 45, 172, 10][i % 8]}.${low >>> 16}.${(low >>> 8) & 255}.${low & 255}`;
    return i % 12 === 4 ? `::ffff:${v4}` : v4;
  }
  const net = Math.floor(i / 3) >> (i % 5 === 0 ? 1 : 0); // some /64s hold two clients
  const high = (net >>> 16) & 0xffff;
  const low = net & 0xffff;
  const host = (h % 0xfffe) + 1;
  switch (Math.floor(i / 3) % 3) {
    case 0: return `2001:db8:${high.toString(16)}:${low.toString(16)}::${host.toString(16)}`;
    case 1: {
      const hex4 = (n) => n.toString(16).padStart(4, '0');
      return `2001:0db8:${hex4(high)}:${hex4(low)}:0000:0000:0000:${hex4(host)}`;
    }
    default: return `2A02:${(h >>> 16).toString(16).toUpperCase()}:${high.toString(16)}:${low.toString(16)}:0:0:${host.toString(16)}:1`;
  }
}

/**
 * A fake IMetrics proxy with `count` client IPs (for the cost benchmark and large tests):
 * 10.x.y.z addresses, or `addresses: 'mixed'` for mixedClientAddress().
 */
export function fakeProxyWithClients(count, { withTopIPs = true, addresses = '10/8' } = {}) {
  const data = sampleMetricsData();
  data.byIP = new Map();
  data.throughputByIP = new Map();
  for (let i = 0; i < count; i += 1) {
    const ip = addresses === 'mixed' ? mixedClientAddress(i) : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const connections = 1 + ((i * 2654435761) % 97);
    data.byIP.set(ip, connections);
    data.throughputByIP.set(ip, { in: connections * 100, out: connections * 250 });
  }
  data.active = [...data.byIP.values()].reduce((sum, n) => sum + n, 0);
  return fakeMetricsProxy(data, { omit: withTopIPs ? [] : ['connections.topIPs'] });
}

/**
 * SmartProxy 19.6.2 as its metrics plan computes IProxyStats: a table of connections, each with
 * bytesReceived/bytesSent so far; getThroughput() sums them over the connections open now (so it
 * falls when one closes) and getRequestsPerSecond() is the requests of the last 60 s / 60.
 * `now()` is the clock (ms). restart() is proxy.stop() + proxy.start(): everything back to zero.
 */
export class FakeSmartProxy1962 {
  constructor({ now = () => Date.now(), withTopIPs = false } = {}) {
    this.now = now;
    this.withTopIPs = withTopIPs;
    this.restart();
  }

  restart() {
    this.connections = new Map(); // id -> { ip, route, bytesReceived, bytesSent }
    this.nextId = 1;
    this.totalConnections = 0;
    this.requestTimes = [];
  }

  /** Opens a connection; returns its id. */
  open({ ip = '192.0.2.1', route = 'default' } = {}) {
    const id = this.nextId;
    this.nextId += 1;
    this.totalConnections += 1;
    this.connections.set(id, { ip, route, bytesReceived: 0, bytesSent: 0 });
    return id;
  }

  transfer(id, received, sent) {
    const connection = this.connections.get(id);
    connection.bytesReceived += received;
    connection.bytesSent += sent;
  }

  close(id) {
    this.connections.delete(id);
  }

  /** Counts one request at now(). */
  request() {
    this.requestTimes.push(this.now());
  }

  getStats() {
    const proxy = this;
    const countBy = (key) => {
      const counts = new Map();
      for (const connection of proxy.connections.values()) {
        counts.set(connection[key], (counts.get(connection[key]) ?? 0) + 1);
      }
      return counts;
    };
    class MetricsCollector {
      getActiveConnections() { return proxy.connections.size; }
      getTotalConnections() { return proxy.totalConnections; }
      getConnectionsByRoute() { return countBy('route'); }
      getConnectionsByIP() { return countBy('ip'); }
      getRequestsPerSecond() {
        const since = proxy.now() - 60000;
        proxy.requestTimes = proxy.requestTimes.filter((time) => time > since);
        return proxy.requestTimes.length / 60;
      }
      getThroughput() {
        let bytesIn = 0;
        let bytesOut = 0;
        for (const connection of proxy.connections.values()) {
          bytesIn += connection.bytesReceived;
          bytesOut += connection.bytesSent;
        }
        return { bytesIn, bytesOut };
      }
    }
    const stats = new MetricsCollector();
    if (this.withTopIPs) stats.getTopIPs = (limit = 10) => sortedTopIPs(countBy('ip'), limit);
    return stats;
  }
}

/** The numbers a 27.x-like proxy reports: plain objects and records, the 1.1 groups filled. */
export function sample27Data() {
  return {
    active: 9,
    total: 4200,
    byRoute: { api: 6, web: 3 },
    byIP: { '203.0.113.9': 5, '198.51.100.20': 4 },
    instant: { in: 300, out: 600 },
    recent: { in: 250, out: 500 },
    average: { in: 200, out: 400 },
    throughputByRoute: { api: { in: 200, out: 400 }, web: { in: 100, out: 200 } },
    throughputByIP: { '203.0.113.9': { in: 150, out: 300 }, '198.51.100.20': { in: 150, out: 300 } },
    perSecond: 4,
    perMinute: 240,
    requestsTotal: 88000,
    bytesIn: 5000000,
    bytesOut: 7000000,
    totalConnections: 4200,
    connectionDuration: { p50: 80, p95: 400, p99: 1200 },
    bytesTransferred: { in: { p50: 10, p95: 20, p99: 30 }, out: { p50: 40, p95: 50, p99: 60 } },
    backends: {
      '10.0.0.5:8080': {
        protocol: 'h2', activeConnections: 3, totalConnections: 120, connectErrors: 1,
        handshakeErrors: 0, requestErrors: 2, avgConnectTimeMs: 4.5, poolHits: 100, poolMisses: 20,
      },
      '10.0.0.6:8080': {
        protocol: 'h1', activeConnections: 1, totalConnections: 40, connectErrors: 0,
        handshakeErrors: 1, requestErrors: 0, avgConnectTimeMs: 2, poolHits: 30, poolMisses: 10,
      },
    },
    frontendProtocols: [
      { protocol: 'h1', active: 5, total: 3000 },
      { protocol: 'h2', active: 4, total: 1200 },
    ],
    backendProtocols: { h1: { active: 1, total: 40 }, h2: { active: 3, total: 120 } },
    udp: { activeSessions: 2, totalSessions: 50, datagramsIn: 1000, datagramsOut: 990 },
    byDomain: {
      'example.com': { perSecond: 3, lastMinute: 180 },
      'api.example.com': { perSecond: 1, lastMinute: 60 },
    },
  };
}

/**
 * A 27.x-like proxy: getMetrics() and every getter async, plain objects instead of Maps, and the
 * 1.1 groups under the adapter's default names. `omit` as for fakeMetricsProxy.
 */
export function fakeProxy27(data = sample27Data(), { omit = [] } = {}) {
  const answer = (read) => async (...args) => read(...args);
  const copy = (value) => structuredClone(value);
  const metrics = {
    connections: {
      active: answer(() => data.active),
      total: answer(() => data.total),
      byRoute: answer(() => copy(data.byRoute)),
      byIP: answer(() => copy(data.byIP)),
      topIPs: answer((limit = 10) => sortedTopIPs(new Map(Object.entries(data.byIP)), limit)),
    },
    throughput: {
      instant: answer(() => copy(data.instant)),
      recent: answer(() => copy(data.recent)),
      average: answer(() => copy(data.average)),
      byRoute: answer(() => copy(data.throughputByRoute)),
      byIP: answer(() => copy(data.throughputByIP)),
    },
    requests: {
      perSecond: answer(() => data.perSecond),
      perMinute: answer(() => data.perMinute),
      total: answer(() => data.requestsTotal),
      byDomain: answer(() => copy(data.byDomain)),
    },
    totals: {
      bytesIn: answer(() => data.bytesIn),
      bytesOut: answer(() => data.bytesOut),
      connections: answer(() => data.totalConnections),
    },
    percentiles: {
      connectionDuration: answer(() => copy(data.connectionDuration)),
      bytesTransferred: answer(() => copy(data.bytesTransferred)),
    },
    backends: {
      byBackend: answer(() => copy(data.backends)),
    },
    protocols: {
      frontend: answer(() => copy(data.frontendProtocols)),
      backend: answer(() => copy(data.backendProtocols)),
    },
    udp: {
      activeSessions: answer(() => data.udp.activeSessions),
      totalSessions: answer(() => data.udp.totalSessions),
      datagramsIn: answer(() => data.udp.datagramsIn),
      datagramsOut: answer(() => data.udp.datagramsOut),
    },
  };
  for (const name of omit) {
    const [group, method] = name.split('.');
    if (method === undefined) delete metrics[group];
    else delete metrics[group][method];
  }
  return { metrics, data, getMetrics: async () => metrics };
}

/** The snapshot fields fakeProxy27(sample27Data()) should produce for the 1.1 groups. */
export function expected27Groups() {
  return {
    backends: {
      '10.0.0.5:8080': {
        protocol: 'h2', active: 3, total: 120, connectErrors: 1, handshakeErrors: 0,
        requestErrors: 2, connectTimeMs: 4.5, poolHits: 100, poolMisses: 20,
      },
      '10.0.0.6:8080': {
        protocol: 'h1', active: 1, total: 40, connectErrors: 0, handshakeErrors: 1,
        requestErrors: 0, connectTimeMs: 2, poolHits: 30, poolMisses: 10,
      },
    },
    protocols: {
      frontend: { h1: { active: 5, total: 3000 }, h2: { active: 4, total: 1200 } },
      backend: { h1: { active: 1, total: 40 }, h2: { active: 3, total: 120 } },
    },
    udp: { activeSessions: 2, totalSessions: 50, datagramsIn: 1000, datagramsOut: 990 },
    byDomain: {
      'example.com': { perSecond: 3, perMinute: 180 },
      'api.example.com': { perSecond: 1, perMinute: 60 },
    },
  };
}
