// /metrics against the proxy's own records (BenchProxy.truth()) taken at the same moment.
// compareScrape() returns one row per check: { check, expected, got, relError, exact, pass }.
// Exact where the protocol promises exact (counts, counters, the top-N IPs' connections, the
// sums into ip="other"); rates derived from records are checked within a tolerance elsewhere.
import { parseMetrics } from './lib.mjs';

function ipv4Prefix(ip, bits) {
  const parts = ip.split('.').map(Number);
  const value = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
  const masked = bits === 0 ? 0 : (value & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0;
  return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${bits}`;
}

function parseIPv6(ip) {
  const [head, tail] = ip.split('::');
  const parse = (part) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}

// RFC 5952: lower case, no leading zeros, the longest run (>= 2) of zero groups as "::".
function formatIPv6(groups) {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i += 1; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) { best = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

function ipv6Prefix(ip, bits) {
  const groups = parseIPv6(ip);
  for (let i = 0; i < 8; i += 1) {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    groups[i] &= keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
  }
  return `${formatIPv6(groups)}/${bits}`;
}

/** The `ip` label the exporter gives `ip` under `anonymize` ('none' | 'prefix'). */
export function ipLabel(ip, anonymize, { v4 = 24, v6 = 64 } = {}) {
  if (anonymize !== 'prefix') return ip;
  return ip.includes(':') ? ipv6Prefix(ip, v6) : ipv4Prefix(ip, v4);
}

export const kConfigShape = {
  default: { top: 20, anonymize: 'none' },
  prefix: { top: 20, anonymize: 'prefix' },
  all: { top: 1_000_000, anonymize: 'none' },
};

function row(check, expected, got, { exact = true, tolerance = 0 } = {}) {
  const relError = expected === 0 ? (got === 0 ? 0 : Infinity) : Math.abs(got - expected) / expected;
  const pass = got !== undefined && (exact ? got === expected : relError <= tolerance);
  return { check, expected, got, relError, exact, pass };
}

/** Compares a /metrics text with the proxy's truth for one exporter config. */
export function compareScrape(text, truth, config) {
  const shape = kConfigShape[config];
  const samples = parseMetrics(text);
  const one = (name) => samples.find((s) => s.name === name && Object.keys(s.labels).length === 0)?.value;
  const rows = [
    row('up', 1, one('smartproxy_up')),
    row('connections_active', truth.active, one('smartproxy_connections_active')),
    row('connections_total', truth.total, one('smartproxy_connections_total')),
    row('requests_total', truth.requestsTotal, one('smartproxy_requests_total')),
    row('received_bytes_total', truth.bytesIn, one('smartproxy_received_bytes_total')),
    row('sent_bytes_total', truth.bytesOut, one('smartproxy_sent_bytes_total')),
  ];
  const routes = Object.fromEntries(samples.filter((s) => s.name === 'smartproxy_route_connections_active')
    .map((s) => [s.labels.route, s.value]));
  let routeBad = 0;
  for (const [route, count] of Object.entries(truth.byRoute)) if (routes[route] !== count) routeBad += 1;
  if (Object.keys(routes).length !== Object.keys(truth.byRoute).length) routeBad += 1;
  rows.push({ check: 'route_connections_active (every route)', expected: `${Object.keys(truth.byRoute).length} routes`,
    got: `${routeBad} differ`, exact: true, pass: routeBad === 0, relError: routeBad ? Infinity : 0 });

  // Per IP: the truth grouped by label, the exported top-N must be a valid top-N with equal values,
  // ip="other" the sum of the rest.
  const grouped = new Map();
  for (const [ip, count] of Object.entries(truth.byIP)) {
    const label = ipLabel(ip, shape.anonymize);
    grouped.set(label, (grouped.get(label) ?? 0) + count);
  }
  const exported = samples.filter((s) => s.name === 'smartproxy_ip_connections_active');
  const named = exported.filter((s) => s.labels.ip !== 'other');
  const other = exported.find((s) => s.labels.ip === 'other')?.value ?? 0;
  let valueBad = 0;
  let minExported = Infinity;
  for (const s of named) {
    if (grouped.get(s.labels.ip) !== s.value) valueBad += 1;
    minExported = Math.min(minExported, s.value);
  }
  const exportedLabels = new Set(named.map((s) => s.labels.ip));
  let rest = 0;
  let maxRest = 0;
  for (const [label, count] of grouped) {
    if (exportedLabels.has(label)) continue;
    rest += count;
    maxRest = Math.max(maxRest, count);
  }
  const expectedCount = Math.min(shape.top, grouped.size);
  rows.push(row(`ip series (top ${shape.top === 1_000_000 ? 'all' : shape.top}${shape.anonymize === 'prefix' ? ', /24 /64' : ''})`,
    expectedCount, named.length));
  rows.push({ check: 'ip_connections_active of each exported ip', expected: 'equal to the records',
    got: `${valueBad} differ`, exact: true, pass: valueBad === 0 && named.length > 0, relError: valueBad ? Infinity : 0 });
  rows.push({ check: 'exported ips are the busiest', expected: `min exported >= max not exported`,
    got: `${minExported} vs ${maxRest}`, exact: true, pass: rest === 0 || minExported >= maxRest, relError: 0 });
  rows.push(row('ip="other" (sum of the rest)', rest, other));
  rows.push(row('client_ips', truth.distinctIPs, one('smartproxy_client_ips')));
  return rows;
}

function rateOf(samples, direction, window) {
  return samples.find((s) => s.name === 'smartproxy_throughput_bytes_per_second' &&
    s.labels.direction === direction && s.labels.window === window)?.value;
}

/**
 * Rows for the throughput gauges against bytes counted in the records: over wall-clock time
 * between two truths (`earlier`, `later`; within `tolerance`), and over the proxy's own sample
 * ticks (later.ticks: the records' totals at each 1 s tick; the window's rate is the bytes between
 * the ticks the tracker's window spans, divided by `seconds`, which must be exact up to the text
 * format's 16 significant digits).
 */
export function compareRates(text, earlier, later, { window, seconds, tolerance = 0.01 }) {
  const samples = parseMetrics(text);
  const wall = (later.at - earlier.at) / 1000;
  const rows = [];
  for (const [direction, key] of [['in', 'bytesIn'], ['out', 'bytesOut']]) {
    rows.push(row(`throughput ${direction}, ${window} window, vs wall clock`, (later[key] - earlier[key]) / wall,
      rateOf(samples, direction, window), { exact: false, tolerance }));
    // The tracker sums the samples stamped after (now - window): the bytes between the last tick
    // at or before that instant and the last tick (a tick delayed by a blocked event loop makes
    // the window hold one sample fewer, so counting `seconds` ticks back would be wrong).
    const ticks = later.ticks ?? [];
    const since = later.at - seconds * 1000;
    const firstIndex = ticks.findLastIndex((tick) => tick.t <= since);
    if (firstIndex >= 0) {
      const last = ticks[ticks.length - 1];
      const first = ticks[firstIndex];
      rows.push(row(`throughput ${direction}, ${window} window, vs records at the proxy's ticks`,
        (last[key] - first[key]) / seconds, rateOf(samples, direction, window), { exact: false, tolerance: 1e-12 }));
    }
  }
  return rows;
}
