// Builds one protocol v1 (1.1) snapshot object (docs/snapshot-protocol.md) from a SmartProxy
// instance. Every getter goes through one ReadSession (read.js): values or Promises, one deadline,
// no throw and no rejection reaching the proxy. Independent getters are called at once, so one
// that hangs costs only its own field. The HTTP layer serialises what this returns.
import { packageInfo } from './package_info.js';
import { kDefaultDeadlineMs, openReadSession } from './read.js';
import { kApiNames, openSource, ProxyGetterError, rootAccessor, SnapshotError } from './sources.js';
import { connectionsByIP, throughputByIP } from './ip_selection.js';
import { Slicer } from './slices.js';
import { topEntriesFromList } from './top_ips.js';
import {
  counterValue, describeValue, emptyNameMap, entryCount, gaugeMap, gaugeValue, isKnownCollection,
  isPlainObject, NameTable, nameTableToObject, pairMap, pick, quantiles, recordMap, throughputPair,
  walkNamed,
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
 * options.ipGrouping: { ipv4Prefix (0..32), ipv6Prefix (0..128) } to sum the per-IP maps per
 *   network (?ipv4Prefix=&ipv6Prefix=), or undefined for addresses.
 * options.identity: the `proxy` group, or a function of the finished snapshot returning it.
 * options.now: the timestamp, ms since the epoch (default Date.now()).
 * options.countDistinctIPs: also call byIP() for distinctIPs when topIPs() serves ?ips=N.
 * options.deadlineMs: how long all reads together may take (default 1000).
 * options.signal: an AbortSignal that ends the reads early (as if the deadline had passed) and
 *   stops the work after them (rejecting with SnapshotError).
 * options.read: { <group>: (metrics, context) => value | Promise } overrides (kReadGroups).
 * The getters are called once; the per-IP work after them runs in slices that yield to the
 * event loop (slices.js).
 */
export async function buildSnapshot(proxy, options = {}) {
  const slicer = options.slicer ?? new Slicer({ signal: options.signal });
  const snapshot = await buildSnapshotParts(proxy, { ...options, slicer });
  for (const group of [snapshot.connections, snapshot.throughput]) {
    if (group?.byIP instanceof NameTable) group.byIP = await nameTableToObject(group.byIP, slicer);
  }
  slicer.finish();
  return snapshot;
}

/**
 * buildSnapshot's snapshot with connections.byIP and throughput.byIP possibly NameTables
 * (values.js), for serialise.js; options.slicer (slices.js Slicer) is required.
 */
export async function buildSnapshotParts(proxy, options) {
  const { slicer } = options;
  const { api, accessor } = rootAccessor(proxy);
  const overrides = checkReadOverrides(options.read);
  const grouping = checkIpGrouping(options.ipGrouping);
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
      grouping,
      countDistinctIPs: options.countDistinctIPs === true,
      context: { proxy, api: kApiNames[api], ipLimit: options.ipLimit },
    };
    if (grouping !== undefined) ctx.context.ipGrouping = grouping;
    return await assemble(ctx, timestamp, options.identity, slicer);
  } finally {
    session.close();
  }
}

function checkIpGrouping(grouping) {
  if (grouping === undefined) return undefined;
  const { ipv4Prefix = 24, ipv6Prefix = 64 } = grouping ?? {};
  if (!Number.isInteger(ipv4Prefix) || ipv4Prefix < 0 || ipv4Prefix > 32 ||
      !Number.isInteger(ipv6Prefix) || ipv6Prefix < 0 || ipv6Prefix > 128) {
    throw new TypeError('ipGrouping: ipv4Prefix must be an integer 0..32 and ipv6Prefix 0..128');
  }
  return Object.freeze({ ipv4Prefix, ipv6Prefix });
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

async function assemble(ctx, timestamp, identity, slicer) {
  // Everything starts now; only throughput waits for connections (its byIP follows their IPs).
  const connections = readConnections(ctx);
  const pending = {
    requests: guard(ctx, 'requests', readFields(ctx, 'requests', kRequestFields)),
    byDomain: guard(ctx, 'byDomain', readMapGroup(ctx, 'byDomain', ctx.source.requestsByDomain, domainMap)),
    bytes: guard(ctx, 'bytes', readBytes(ctx)),
    openConnectionBytes: guard(ctx, 'openConnectionBytes', readOpenConnectionBytes(ctx)),
    throughput: guard(ctx, 'throughput', connections.then(
      (result) => readThroughput(ctx, result), () => undefined)),
    percentiles: guard(ctx, 'percentiles', readFields(ctx, 'percentiles', kPercentileFields)),
    backends: guard(ctx, 'backends', readMapGroup(ctx, 'backends', ctx.source.backends, backendMap)),
    protocols: guard(ctx, 'protocols', readFields(ctx, 'protocols', kProtocolFields)),
    udp: guard(ctx, 'udp', readFields(ctx, 'udp', kUdpFields)),
  };
  // A required field that cannot be read ends the snapshot at once; the other reads are left to
  // settle on their own (each is guarded, none can reject unhandled).
  const connectionsRead = await connections;
  const groups = {};
  for (const [name, promise] of Object.entries(pending)) groups[name] = await promise;
  // Every getter has answered: what follows works on what they returned, in slices, and calls
  // none of them again, so the snapshot is the one read now however long the slices take.
  ctx.session.close();
  if (slicer.due()) await slicer.yield();
  const { group } = connectionsRead;
  const selection = await finishConnections(ctx, connectionsRead, slicer);
  groups.throughput = await finishThroughput(ctx, groups.throughput, selection, slicer);

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

// ---- connections (required) and the per-IP maps ---------------------------------------------

// Resolves to { group, ips, distinctIPs } after the reads: `group` holds active, total and
// byRoute; `ips` is what connections.byIP will be made of after the reads (ip_selection.js):
// { raw, label } (a collection of every IP), { entries } (topIPs() chose them), or undefined;
// `distinctIPs` is set when a getter or the override gave it. Rejects with SnapshotError for a
// required field.
async function readConnections(ctx) {
  if (ctx.overrides.connections) return connectionsFromOverride(ctx);
  const { source } = ctx;
  // All at once; active and total are checked first so that their failure answers at once.
  const active = readRequired(ctx, source.connectionsActive, 'active-connections', gaugeValue);
  const total = readRequired(ctx, source.connectionsTotal, 'total-connections', counterValue);
  const byRoute = readField(ctx, source.connectionsByRoute, routeMap);
  const ips = readIPs(ctx);
  const required = await allOrFirstError([active, total]);
  if (required.error) throw required.error;
  const group = { active: required.values[0], total: required.values[1] };
  setIfPresent(group, 'byRoute', await byRoute);
  return { group, ...(await ips) };
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
  if (raw.byIP === undefined) return { group, ips: undefined };
  return { group, ips: { raw: raw.byIP, label: `${label}.byIP` }, distinctIPs: gaugeValue(raw.distinctIPs) };
}

// The largest ?ips=N asked of topIPs(); above it byIP() is read and the top chosen in slices.
const kLargestTopIPsLimit = 1000;

// Resolves to { ips, distinctIPs? }. The full byIP() map is only asked for when it is needed:
// with no limit, with a limit and no topIPs(), or to group by network; distinctIPs then comes
// from that map, which is free. With topIPs() the map is fetched for counting only if
// countDistinctIPs asks.
async function readIPs(ctx) {
  const { source, ipLimit } = ctx;
  // A large N (an exporter with ips.top: 1000000 wants every IP) is served from byIP() in slices:
  // topIPs(N) would sort every IP and build N objects in the proxy, and its list would be
  // taken here in one piece.
  const large = ipLimit > kLargestTopIPsLimit && source.connectionsByIP;
  if (ipLimit === undefined || ctx.grouping !== undefined || !source.topIPs || large) {
    const got = await readRaw(ctx, source.connectionsByIP);
    return got === undefined ? {} : { ips: { raw: got.value, label: got.label } };
  }
  const top = ipLimit > 0
    ? readField(ctx, source.topIPs, (value) => topEntriesFromList(value, ipLimit), ipLimit)
    : Promise.resolve([]);
  const all = ctx.countDistinctIPs
    ? readField(ctx, source.connectionsByIP, (value) => (isKnownCollection(value, kIpKeys) ? value : undefined))
    : Promise.resolve(undefined);
  const [entries, counted] = await Promise.all([top, all]);
  if (entries === undefined) return {};
  return { ips: { entries }, countFrom: counted };
}

// Number of entries of an IP collection (what distinctIPs counts), in slices for an array.
async function countIPs(collection, slicer) {
  const direct = entryCount(collection);
  if (direct !== undefined) return direct;
  let count = 0;
  return (await walkNamed(collection, kIpKeys, () => { count += 1; }, slicer)) ? count : undefined;
}

// After the reads: connections.byIP, distinctIPs and (grouped) ipGrouping, distinctNetworks.
async function finishConnections(ctx, read, slicer) {
  const { group } = read;
  if (ctx.grouping !== undefined) {
    // Which grouping this document applies (the exporter checks it before trusting the keys).
    group.ipGrouping = { ipv4Prefix: ctx.grouping.ipv4Prefix, ipv6Prefix: ctx.grouping.ipv6Prefix };
  }
  if (read.ips === undefined) return undefined;
  const processed = await connectionsByIP(read.ips, ipOptions(ctx), slicer);
  if (processed === undefined) return undefined;
  let { distinctIPs } = read;
  if (distinctIPs === undefined) {
    const countFrom = read.ips.raw ?? read.countFrom;
    if (countFrom !== undefined) distinctIPs = await countIPs(countFrom, slicer);
  }
  // Key order as before 0.3.0 (byRoute, byIP, distinctIPs), the grouping's members last.
  const { ipGrouping } = group;
  delete group.ipGrouping;
  group.byIP = processed.byIP;
  setIfPresent(group, 'distinctIPs', distinctIPs);
  setIfPresent(group, 'ipGrouping', ipGrouping);
  setIfPresent(group, 'distinctNetworks', processed.distinctNetworks);
  return processed.selection ?? kEverything;
}

// "Every IP (or network)": the selection when no ?ips= limit chose some.
const kEverything = Object.freeze({});

function ipOptions(ctx) {
  return {
    ipLimit: ctx.ipLimit,
    grouping: ctx.grouping,
    reject: (label, value) => usable(ctx, label, value, () => undefined),
  };
}

function routeMap(value) {
  return gaugeMap(value, { nameKeys: kRouteKeys });
}

// ---- throughput: byIP follows the IPs (or networks) chosen for connections.byIP ---------------

// Resolves to { group, byIP } after the reads of connections (`connections`, what
// readConnections resolved to): `group` is the throughput group without byIP,
// `byIP` { input: { raw, label }, followsSelection } to be finished after the reads, { value }
// (already final), or undefined.
async function readThroughput(ctx, connections) {
  if (ctx.overrides.throughput) {
    const got = await readOverride(ctx, 'throughput');
    const group = fieldsFromOverride(ctx, got, kThroughputFields);
    if (!isPlainObject(got?.value) || got.value.byIP === undefined) return { group };
    return { group, byIP: { input: { raw: got.value.byIP, label: `${got.label}.byIP` } } };
  }
  const [group, byIP] = await Promise.all([
    readFields(ctx, 'throughput', kThroughputFields), readThroughputByIP(ctx, connections)]);
  return { group, byIP };
}

async function readThroughputByIP(ctx, connections) {
  const acc = ctx.source.throughputByIP;
  if (acc === undefined) return undefined;
  if (ctx.ipLimit !== undefined) {
    // Same IPs as connections.byIP (protocol: ?ips=N limits both); with none to select the
    // proxy's map is not even built.
    const { ips } = connections;
    if (ips === undefined) return undefined;
    if (ips.entries !== undefined ? ips.entries.length === 0 : ctx.ipLimit === 0) {
      return { value: emptyNameMap() };
    }
    if (ips.raw !== undefined && !isKnownCollection(ips.raw, kIpKeys)) return undefined;
  }
  const got = await readRaw(ctx, acc);
  if (got === undefined) return undefined;
  return { input: { raw: got.value, label: got.label }, followsSelection: ctx.ipLimit !== undefined };
}

async function finishThroughput(ctx, read, selection, slicer) {
  if (read === undefined) return undefined;
  const { group, byIP } = read;
  let value;
  if (byIP?.value !== undefined) {
    value = byIP.value;
  } else if (byIP?.input !== undefined) {
    // connections.byIP chose nothing (absent or unrecognised): the proxy's list is left out
    // when it was to follow that choice, and given whole from an override.
    if (selection === undefined && byIP.followsSelection) return group;
    const chosen = selection === kEverything ? undefined : selection;
    value = await throughputByIP(byIP.input, chosen, ipOptions(ctx), slicer);
  }
  if (value === undefined) return group;
  return { ...group, byIP: value };
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
