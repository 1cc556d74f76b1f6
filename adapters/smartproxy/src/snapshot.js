// Builds one protocol v1 (1.1) snapshot object (docs/snapshot-protocol.md) from a SmartProxy
// instance. Every getter goes through one ReadSession (read.js): values or Promises, one deadline,
// no throw and no rejection reaching the proxy. Independent getters are called at once, so one
// that hangs costs only its own field. The HTTP layer serialises what this returns.
import { packageInfo } from './package_info.js';
import { kDefaultDeadlineMs, openReadSession } from './read.js';
import { kApiNames, openSource, ProxyGetterError, rootAccessor, SnapshotError } from './sources.js';
import { topEntries, topEntriesFromList } from './top_ips.js';
import {
  counterValue, describeValue, emptyNameMap, entryValue, gaugeMap, gaugeValue, isPlainObject,
  namedCount, pairMap, pick, quantiles, recordMap, throughputPair,
} from './values.js';

export { ProxyGetterError, SnapshotError };

/** The groups whose reading `options.read` may override (README, "Overriding how a group is read"). */
export const kReadGroups = Object.freeze([
  'connections', 'requests', 'byDomain', 'bytes', 'openConnectionBytes', 'throughput',
  'percentiles', 'backends', 'protocols', 'udp',
]);

// The groups after `requests`, in the order they appear in the snapshot.
const kGroupsAfterRequests = [
  'bytes', 'openConnectionBytes', 'throughput', 'percentiles', 'backends', 'protocols', 'udp',
];

// Keys under which an array of records names its entries (values.forEachNamed).
const kRouteKeys = ['route', 'name'];
const kIpKeys = ['ip'];
const kBackendKeys = ['backend', 'name', 'key', 'address'];
const kProtocolKeys = ['protocol', 'name'];
const kDomainKeys = ['domain', 'name', 'host'];

/**
 * Resolves to the snapshot of `proxy` as a plain object ready for JSON.stringify; rejects with
 * SnapshotError (ProxyGetterError when a getter threw, rejected or was late) when a required
 * field (connections.active / total, or getMetrics()/getStats() itself) cannot be read.
 * options.ipLimit: undefined for every IP, else N >= 0 (?ips=N).
 * options.identity: the `proxy` group, or a function of the finished snapshot returning it.
 * options.now: the timestamp, ms since the epoch (default Date.now()).
 * options.countDistinctIPs: also call byIP() for distinctIPs when topIPs() serves ?ips=N.
 * options.deadlineMs: how long all reads together may take (default 1000).
 * options.signal: an AbortSignal that ends the reads early (as if the deadline had passed).
 * options.read: { <group>: (metrics, context) => value | Promise } overrides (kReadGroups).
 */
export async function buildSnapshot(proxy, options = {}) {
  const { api, accessor } = rootAccessor(proxy);
  const overrides = checkReadOverrides(options.read);
  const timestamp = options.now ?? Date.now();
  const session = openReadSession({
    deadlineMs: options.deadlineMs ?? kDefaultDeadlineMs,
    signal: options.signal,
  });
  try {
    const rootOutcome = await session.read(accessor.label, accessor.call);
    if (!rootOutcome.ok) throw new ProxyGetterError(accessor.label, rootOutcome.reason);
    const root = rootOutcome.value;
    if (root === null || typeof root !== 'object') {
      throw new SnapshotError(`${accessor.label} returned ${describeValue(root)}, not a metrics object`);
    }
    const ctx = {
      session,
      source: openSource(api, root),
      root,
      overrides,
      ipLimit: options.ipLimit,
      countDistinctIPs: options.countDistinctIPs === true,
      context: { proxy, api: kApiNames[api], ipLimit: options.ipLimit },
    };
    return await assemble(ctx, timestamp, options.identity);
  } finally {
    session.close();
  }
}

/** options.read checked: undefined or an object of kReadGroups names -> functions; else TypeError. */
export function checkReadOverrides(read) {
  if (read === undefined) return {};
  if (!isPlainObject(read)) throw new TypeError('read must be an object of group name -> function');
  for (const [name, value] of Object.entries(read)) {
    if (!kReadGroups.includes(name)) {
      throw new TypeError(`read.${name}: unknown group; known: ${kReadGroups.join(', ')}`);
    }
    if (typeof value !== 'function') throw new TypeError(`read.${name} must be a function`);
  }
  return read;
}

async function assemble(ctx, timestamp, identity) {
  // Everything starts now; only throughput.byIP waits for the IPs that connections.byIP chose.
  const connections = readConnections(ctx);
  const pending = {
    requests: guard(ctx, 'requests', readFields(ctx, 'requests', kRequestFields)),
    byDomain: guard(ctx, 'byDomain', readMapGroup(ctx, 'byDomain', ctx.source.requestsByDomain, domainMap)),
    bytes: guard(ctx, 'bytes', readBytes(ctx)),
    openConnectionBytes: guard(ctx, 'openConnectionBytes', readOpenConnectionBytes(ctx)),
    throughput: guard(ctx, 'throughput', connections.then(
      (result) => readThroughput(ctx, result.selectedIPs), () => undefined)),
    percentiles: guard(ctx, 'percentiles', readFields(ctx, 'percentiles', kPercentileFields)),
    backends: guard(ctx, 'backends', readMapGroup(ctx, 'backends', ctx.source.backends, backendMap)),
    protocols: guard(ctx, 'protocols', readFields(ctx, 'protocols', kProtocolFields)),
    udp: guard(ctx, 'udp', readFields(ctx, 'udp', kUdpFields)),
  };
  // A required field that cannot be read ends the snapshot at once; the other reads are left to
  // settle on their own (each is guarded, none can reject unhandled).
  const { group } = await connections;
  const groups = {};
  for (const [name, promise] of Object.entries(pending)) groups[name] = await promise;

  const snapshot = { schemaVersion: 1, timestamp };
  const proxyGroup = typeof identity === 'function' ? identity({ connections: group, ...groups }) : identity;
  if (proxyGroup !== undefined) snapshot.proxy = proxyGroup;
  snapshot.adapter = {
    name: packageInfo.name,
    version: packageInfo.version,
    api: ctx.context.api,
    skipped: ctx.session.skipped,
  };
  snapshot.connections = group;
  let requests = groups.requests;
  if (groups.byDomain !== undefined) (requests ??= {}).byDomain = groups.byDomain;
  setIfPresent(snapshot, 'requests', requests);
  for (const name of kGroupsAfterRequests) setIfPresent(snapshot, name, groups[name]);
  return snapshot;
}

// ---- reading one getter -------------------------------------------------------------------

// Resolves to { label, value } when `acc` exists and answered in time, else undefined (a
// failure is recorded in the session; an absent getter is not a failure).
function readRaw(ctx, acc, ...args) {
  if (acc === undefined) return Promise.resolve(undefined);
  return ctx.session.read(acc.label, () => acc.call(...args))
    .then((outcome) => (outcome.ok ? { label: acc.label, value: outcome.value } : undefined));
}

// normalise(value), or undefined counted as skipped when it does not recognise the value.
function usable(ctx, label, value, normalise) {
  const result = normalise(value);
  if (result === undefined) {
    ctx.session.fail(label, `returned ${describeValue(value)}, which the adapter does not recognise`);
  }
  return result;
}

async function readField(ctx, acc, normalise, ...args) {
  const got = await readRaw(ctx, acc, ...args);
  return got === undefined ? undefined : usable(ctx, got.label, got.value, normalise);
}

// The override of `group`: { label, value } when it answered, undefined when it failed (counted).
function readOverride(ctx, group) {
  const override = ctx.overrides[group];
  return readRaw(ctx, { label: `read.${group}()`, call: () => override(ctx.root, ctx.context) });
}

// A bug of ours in one group must not cost the snapshot (or become an unhandled rejection).
function guard(ctx, name, promise) {
  return promise.catch((error) => {
    ctx.session.fail(`adapter (${name})`, `failed: ${error?.message ?? error}`);
    return undefined;
  });
}

// ---- groups of scalar fields: requests, udp, protocols, percentiles, throughput ------------

// spec: { key, from (accessor name in sources.js), aliases (override object keys), normalise }.
// With an override, `group`'s object comes from read.<group>() and each member present in it is
// normalised; else each accessor the proxy has is read, all at once.
async function readFields(ctx, group, specs) {
  if (ctx.overrides[group]) return fieldsFromOverride(ctx, await readOverride(ctx, group), specs);
  const values = await Promise.all(specs.map((spec) => readField(ctx, ctx.source[spec.from], spec.normalise)));
  const result = {};
  specs.forEach((spec, index) => setIfPresent(result, spec.key, values[index]));
  return nonEmpty(result);
}

function fieldsFromOverride(ctx, got, specs) {
  if (got === undefined || got.value === undefined || got.value === null) return undefined;
  if (!isPlainObject(got.value)) {
    usable(ctx, got.label, got.value, () => undefined);
    return undefined;
  }
  const result = {};
  for (const spec of specs) {
    const value = pick(got.value, spec.aliases ?? [spec.key]);
    if (value === undefined) continue;
    setIfPresent(result, spec.key, usable(ctx, `${got.label}.${spec.key}`, value, spec.normalise));
  }
  return nonEmpty(result);
}

const kRequestFields = [
  { key: 'total', from: 'requestsTotal', normalise: counterValue },
  { key: 'perSecond', from: 'requestsPerSecond', normalise: gaugeValue },
  // IProxyStats: getRequestsPerSecond() is requests of the last 60 s / 60 (sources.js).
  { key: 'perMinute', from: 'requestsPerMinute', normalise: gaugeValue },
];

const kUdpFields = [
  {
    key: 'activeSessions', from: 'udpActiveSessions', aliases: ['activeSessions', 'active_sessions'],
    normalise: gaugeValue,
  },
  {
    key: 'totalSessions', from: 'udpTotalSessions', aliases: ['totalSessions', 'total_sessions'],
    normalise: counterValue,
  },
  { key: 'datagramsIn', from: 'udpDatagramsIn', aliases: ['datagramsIn', 'datagrams_in'], normalise: counterValue },
  { key: 'datagramsOut', from: 'udpDatagramsOut', aliases: ['datagramsOut', 'datagrams_out'], normalise: counterValue },
];

const kProtocolFields = [
  { key: 'frontend', from: 'protocolsFrontend', normalise: (value) => protocolMap(value) },
  { key: 'backend', from: 'protocolsBackend', normalise: (value) => protocolMap(value) },
];

const kPercentileFields = [
  {
    key: 'connectionDurationMs',
    from: 'connectionDurationPercentiles',
    aliases: ['connectionDurationMs', 'connectionDuration'],
    normalise: quantiles,
  },
  { key: 'bytesTransferred', from: 'bytesTransferredPercentiles', normalise: transferredQuantiles },
];

const kThroughputFields = [
  { key: 'instant', from: 'throughputInstant', normalise: throughputPair },
  { key: 'recent', from: 'throughputRecent', normalise: throughputPair },
  { key: 'average', from: 'throughputAverage', normalise: throughputPair },
  { key: 'byRoute', from: 'throughputByRoute', normalise: (value) => pairMap(value, { nameKeys: kRouteKeys }) },
];

function transferredQuantiles(value) {
  if (!isPlainObject(value)) return undefined;
  const result = {};
  setIfPresent(result, 'in', quantiles(value.in));
  setIfPresent(result, 'out', quantiles(value.out));
  return nonEmpty(result);
}

// ---- groups that are one name map: backends, requests.byDomain ------------------------------

async function readMapGroup(ctx, group, acc, normalise) {
  if (!ctx.overrides[group]) return readField(ctx, acc, normalise);
  const got = await readOverride(ctx, group);
  if (got === undefined || got.value === undefined || got.value === null) return undefined;
  return usable(ctx, got.label, got.value, normalise);
}

// Record members recognised per protocol field, first match wins: camelCase as SmartProxy's
// TypeScript API writes it, snake_case as its 27.x Rust data plane serialises it (unverified).
const kBackendRecordFields = [
  ['active', gaugeValue, ['active', 'activeConnections', 'active_connections']],
  ['total', counterValue, ['total', 'totalConnections', 'total_connections']],
  ['connectErrors', counterValue, ['connectErrors', 'connect_errors']],
  ['handshakeErrors', counterValue, ['handshakeErrors', 'handshake_errors']],
  ['requestErrors', counterValue, ['requestErrors', 'request_errors']],
  ['connectTimeMs', gaugeValue, ['connectTimeMs', 'avgConnectTimeMs', 'connect_time_ms', 'avg_connect_time_ms']],
  ['poolHits', counterValue, ['poolHits', 'pool_hits']],
  ['poolMisses', counterValue, ['poolMisses', 'pool_misses']],
];

const kProtocolRecordFields = [
  ['active', gaugeValue, ['active', 'activeConnections', 'active_connections']],
  ['total', counterValue, ['total', 'totalConnections', 'total_connections']],
];

const kDomainRecordFields = [
  ['perSecond', gaugeValue, ['perSecond', 'requestsPerSecond', 'per_second', 'rps']],
  ['perMinute', gaugeValue, ['perMinute', 'lastMinute', 'requestsPerMinute', 'requestsLastMinute',
    'per_minute', 'last_minute']],
];

function recordFields(value, fields) {
  if (!isPlainObject(value)) return undefined;
  const result = {};
  for (const [key, normalise, aliases] of fields) setIfPresent(result, key, normalise(pick(value, aliases)));
  return result;
}

function backendMap(value) {
  return recordMap(value, kBackendKeys, (record) => {
    const backend = recordFields(record, kBackendRecordFields);
    if (backend === undefined) return undefined;
    const protocol = pick(record, ['protocol']);
    // protocol first, as in the protocol's example; a string, never invented.
    return typeof protocol === 'string' && protocol !== '' ? { protocol, ...backend } : backend;
  });
}

function protocolMap(value) {
  return recordMap(value, kProtocolKeys, (record) => recordFields(record, kProtocolRecordFields));
}

function domainMap(value) {
  return recordMap(value, kDomainKeys, (record) => {
    // A bare number is the per-second rate.
    if (typeof record === 'number' || typeof record === 'bigint') {
      const perSecond = gaugeValue(record);
      return perSecond === undefined ? undefined : { perSecond };
    }
    return recordFields(record, kDomainRecordFields);
  });
}

// ---- {in, out} pairs: bytes (two getters), openConnectionBytes (one) ------------------------

function pairOf(value, normalise) {
  if (!isPlainObject(value)) return undefined;
  const inValue = normalise(pick(value, ['in', 'bytesIn']));
  const outValue = normalise(pick(value, ['out', 'bytesOut']));
  return inValue === undefined || outValue === undefined ? undefined : { in: inValue, out: outValue };
}

async function readBytes(ctx) {
  if (ctx.overrides.bytes) return readMapGroup(ctx, 'bytes', undefined, (value) => pairOf(value, counterValue));
  const { bytesIn, bytesOut } = ctx.source;
  // Both or neither (protocol rule 1): with only one getter there is nothing to read.
  if (bytesIn === undefined || bytesOut === undefined) return undefined;
  const [inValue, outValue] = await Promise.all([
    readField(ctx, bytesIn, counterValue), readField(ctx, bytesOut, counterValue)]);
  return inValue === undefined || outValue === undefined ? undefined : { in: inValue, out: outValue };
}

function readOpenConnectionBytes(ctx) {
  return readMapGroup(ctx, 'openConnectionBytes', ctx.source.openConnectionBytes,
    (value) => pairOf(value, gaugeValue));
}

// ---- connections (required) and the IP selection --------------------------------------------

// Resolves to { group, selectedIPs } where `selectedIPs` lists the IPs kept under ?ips=N
// (undefined when every IP is returned); rejects with SnapshotError for a required field.
async function readConnections(ctx) {
  if (ctx.overrides.connections) return connectionsFromOverride(ctx);
  const { source } = ctx;
  // All at once; active and total are checked first so that their failure answers at once.
  const active = readRequired(ctx, source.connectionsActive, 'active-connections', gaugeValue);
  const total = readRequired(ctx, source.connectionsTotal, 'total-connections', counterValue);
  const byRoute = readField(ctx, source.connectionsByRoute, routeMap);
  const ips = selectIPs(ctx);
  const required = await allOrFirstError([active, total]);
  if (required.error) throw required.error;
  const group = { active: required.values[0], total: required.values[1] };
  setIfPresent(group, 'byRoute', await byRoute);
  const selection = await ips;
  setIfPresent(group, 'byIP', selection.byIP);
  setIfPresent(group, 'distinctIPs', selection.distinctIPs);
  return { group, selectedIPs: selection.selected };
}

// Resolves (never rejects) to { value } or { error: SnapshotError }: active and total are
// required by the protocol, and a 500 naming the getter tells the operator more than a document
// the exporter must reject.
async function readRequired(ctx, acc, what, normalise) {
  if (acc === undefined) return { error: new SnapshotError(`the proxy has no ${what} getter`) };
  const outcome = await ctx.session.read(acc.label, () => acc.call());
  if (!outcome.ok) return { error: new ProxyGetterError(acc.label, outcome.reason) };
  const value = normalise(outcome.value);
  if (value === undefined) {
    return {
      error: new SnapshotError(
        `${acc.label} returned ${describeValue(outcome.value)}, not a finite non-negative number`),
    };
  }
  return { value };
}

// Resolves to { values } once every one of `promises` (each resolving to { value } or { error })
// gave a value, or to the first { error } as soon as it arrives.
function allOrFirstError(promises) {
  return new Promise((resolve) => {
    const values = [];
    let left = promises.length;
    promises.forEach((promise, index) => {
      promise.then((result) => {
        if (result.error) {
          resolve({ error: result.error });
          return;
        }
        values[index] = result.value;
        left -= 1;
        if (left === 0) resolve({ values });
      }, (error) => resolve({ error }));
    });
  });
}

async function connectionsFromOverride(ctx) {
  const label = 'read.connections()';
  const outcome = await ctx.session.read(label, () => ctx.overrides.connections(ctx.root, ctx.context));
  if (!outcome.ok) throw new ProxyGetterError(label, outcome.reason);
  const raw = outcome.value;
  if (!isPlainObject(raw)) throw new SnapshotError(`${label} returned ${describeValue(raw)}, not an object`);
  const active = gaugeValue(raw.active);
  const total = counterValue(raw.total);
  for (const [name, value] of [['active', active], ['total', total]]) {
    if (value === undefined) {
      throw new SnapshotError(
        `${label} gave ${name} ${describeValue(raw[name])}, not a finite non-negative number`);
    }
  }
  const group = { active, total };
  if (raw.byRoute !== undefined) {
    setIfPresent(group, 'byRoute', usable(ctx, `${label}.byRoute`, raw.byRoute, routeMap));
  }
  if (raw.byIP === undefined) return { group, selectedIPs: undefined };

  const givenDistinct = gaugeValue(raw.distinctIPs);
  if (ctx.ipLimit === undefined) {
    setIfPresent(group, 'byIP', usable(ctx, `${label}.byIP`, raw.byIP, ipMap));
    if (group.byIP !== undefined) {
      setIfPresent(group, 'distinctIPs', givenDistinct ?? namedCount(raw.byIP, kIpKeys));
    }
    return { group, selectedIPs: undefined };
  }
  const entries = usable(ctx, `${label}.byIP`, raw.byIP, (value) => topEntries(value, ctx.ipLimit));
  if (entries === undefined) return { group, selectedIPs: undefined };
  group.byIP = entriesToMap(entries);
  setIfPresent(group, 'distinctIPs', givenDistinct ?? namedCount(raw.byIP, kIpKeys));
  return { group, selectedIPs: entries.map(([ip]) => ip) };
}

// Returns { byIP?, distinctIPs?, selected? }. The full byIP() map is only asked for when it is
// needed: with no limit, or with a limit and no topIPs(); distinctIPs comes from that map's size,
// which is then free. With topIPs() the map is fetched for counting only if countDistinctIPs asks.
async function selectIPs(ctx) {
  const { source, ipLimit } = ctx;
  if (ipLimit === undefined) {
    const got = await readRaw(ctx, source.connectionsByIP);
    if (got === undefined) return {};
    const byIP = usable(ctx, got.label, got.value, ipMap);
    return byIP === undefined ? {} : { byIP, distinctIPs: namedCount(got.value, kIpKeys) };
  }

  let entries;
  let distinctIPs;
  if (source.topIPs) {
    const top = ipLimit > 0
      ? readField(ctx, source.topIPs, (value) => topEntriesFromList(value, ipLimit), ipLimit)
      : Promise.resolve([]);
    const all = ctx.countDistinctIPs
      ? readField(ctx, source.connectionsByIP, (value) => namedCount(value, kIpKeys))
      : Promise.resolve(undefined);
    [entries, distinctIPs] = await Promise.all([top, all]);
    if (entries === undefined) return {};
  } else if (source.connectionsByIP) {
    const got = await readRaw(ctx, source.connectionsByIP);
    if (got === undefined) return {};
    entries = usable(ctx, got.label, got.value, (value) => topEntries(value, ipLimit));
    if (entries === undefined) return {};
    distinctIPs = namedCount(got.value, kIpKeys);
  } else {
    return {};
  }
  return { byIP: entriesToMap(entries), distinctIPs, selected: entries.map(([ip]) => ip) };
}

function entriesToMap(entries) {
  const byIP = emptyNameMap();
  for (const [ip, count] of entries) byIP[ip] = count;
  return byIP;
}

function routeMap(value) {
  return gaugeMap(value, { nameKeys: kRouteKeys });
}

function ipMap(value) {
  return gaugeMap(value, { nameKeys: kIpKeys });
}

function ipPairMap(value) {
  return pairMap(value, { nameKeys: kIpKeys });
}

// ---- throughput: byIP follows the IPs chosen for connections.byIP -----------------------------

async function readThroughput(ctx, selectedIPs) {
  if (ctx.overrides.throughput) {
    const got = await readOverride(ctx, 'throughput');
    const result = fieldsFromOverride(ctx, got, kThroughputFields) ?? {};
    if (isPlainObject(got?.value) && got.value.byIP !== undefined) {
      setIfPresent(result, 'byIP', pickIPs(ctx, `${got.label}.byIP`, got.value.byIP, selectedIPs));
    }
    return nonEmpty(result);
  }
  const [result, byIP] = await Promise.all([
    readFields(ctx, 'throughput', kThroughputFields), readThroughputByIP(ctx, selectedIPs)]);
  if (byIP === undefined) return result;
  return { ...result, byIP };
}

async function readThroughputByIP(ctx, selectedIPs) {
  const acc = ctx.source.throughputByIP;
  if (acc === undefined) return undefined;
  if (ctx.ipLimit === undefined) return readField(ctx, acc, ipPairMap);
  // Same IPs as connections.byIP (protocol: ?ips=N limits both); with none selected the proxy's
  // map is not even built.
  if (selectedIPs === undefined) return undefined;
  if (selectedIPs.length === 0) return emptyNameMap();
  const got = await readRaw(ctx, acc);
  return got === undefined ? undefined : pickIPs(ctx, got.label, got.value, selectedIPs);
}

// The {in, out} of the selected IPs (all of them when selectedIPs is undefined), looked up
// without converting a Map or object of 100k IPs; an array is converted once.
function pickIPs(ctx, label, all, selectedIPs) {
  if (selectedIPs === undefined) return usable(ctx, label, all, ipPairMap);
  const lookup = all instanceof Map || isPlainObject(all) ? all : usable(ctx, label, all, ipPairMap);
  if (lookup === undefined) return undefined;
  const byIP = emptyNameMap();
  for (const ip of selectedIPs) setIfPresent(byIP, ip, throughputPair(entryValue(lookup, ip)));
  return byIP;
}

// ---- small helpers ---------------------------------------------------------------------------

function setIfPresent(target, key, value) {
  if (value !== undefined) target[key] = value;
}

function nonEmpty(group) {
  if (group === undefined) return undefined;
  for (const _ in group) return group;
  return undefined;
}
