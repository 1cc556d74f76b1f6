// The two per-client maps of a snapshot, connections.byIP and throughput.byIP, from what the
// proxy's getters returned: every IP, the top N (?ips=N), or networks (?ipv4Prefix=&ipv6Prefix=,
// docs/snapshot-protocol.md "IP grouping"). They are the only parts of a snapshot that grow with
// the number of clients, so all of this runs in slices (slices.js) over data read once.
import { networkKey, networkText } from './ip_network.js';
import { selectTop, TopN } from './top_ips.js';
import {
  countGauge, emptyNameMap, entryValue, gaugeValue, isPlainObject, nameTableOf, NameTable,
  throughputPair,
} from './values.js';
import { kCheckEvery } from './slices.js';

const kIpKeys = ['ip'];
const kCheckMask = kCheckEvery - 1;

/**
 * What connections.byIP becomes. input: { raw, label } (the byIP() collection or an override's
 * byIP) or { entries } (topIPs() already chose them). options: { ipLimit, grouping, reject(label,
 * value) } where grouping is { ipv4Prefix, ipv6Prefix } or undefined. Resolves to undefined
 * (unrecognised shape, reported through reject) or { byIP, distinctIPs?, distinctNetworks?,
 * selection }, where `selection` tells throughputByIP which names to list (undefined: all).
 */
export async function connectionsByIP(input, options, slicer) {
  const { ipLimit, grouping } = options;
  if (input.entries !== undefined) {
    return { byIP: entriesObject(input.entries), selection: { ips: input.entries.map(([ip]) => ip) } };
  }
  const { raw, label } = input;
  if (grouping !== undefined) {
    const groups = await groupCounts(raw, grouping, slicer);
    if (groups === undefined) return unrecognised(options, label, raw);
    return groupedConnections(groups, ipLimit, grouping, slicer);
  }
  // A limit of at least every IP the proxy lists selects them all: no heap, no sort.
  if (ipLimit === undefined || ipLimit >= (fastEntryCount(raw) ?? Infinity)) {
    const byIP = await nameTableOf(raw, kIpKeys, countGauge, slicer);
    return byIP === undefined ? unrecognised(options, label, raw) : { byIP, selection: undefined };
  }
  const entries = await selectTop(raw, ipLimit, slicer);
  if (entries === undefined) return unrecognised(options, label, raw);
  return { byIP: entriesObject(entries), selection: { ips: entries.map(([ip]) => ip) } };
}

/**
 * What throughput.byIP becomes, given the `selection` connectionsByIP made (undefined: every IP
 * or network the proxy lists). input: { raw, label }. Resolves to the map or undefined.
 */
export async function throughputByIP(input, selection, options, slicer) {
  const { raw, label } = input;
  const { grouping } = options;
  if (grouping !== undefined) {
    const groups = await groupPairs(raw, grouping, selection?.networks, slicer, selection?.positions);
    if (groups === undefined) return unrecognised(options, label, raw);
    if (selection === undefined) return groupTable(groups, grouping, (i) => groups.values[i], slicer);
    // The networks chosen for connections.byIP, in that order, those with any throughput.
    const byIP = emptyNameMap();
    for (const { key, text } of selection.networks.values()) {
      const index = groups.index.get(key);
      if (index !== undefined) byIP[text] = groups.values[index];
    }
    return byIP;
  }
  if (selection === undefined) {
    const byIP = await nameTableOf(raw, kIpKeys, throughputPair, slicer);
    return byIP === undefined ? unrecognised(options, label, raw) : byIP;
  }
  // A few IPs looked up without converting a Map or object of 100k IPs; an array (no lookup)
  // is converted once, in slices.
  const lookup = raw instanceof Map || isPlainObject(raw)
    ? raw
    : (await nameTableOf(raw, kIpKeys, throughputPair, slicer))?.asMap();
  if (lookup === undefined) return unrecognised(options, label, raw);
  const byIP = emptyNameMap();
  for (const ip of selection.ips) {
    const pair = throughputPair(entryValue(lookup, ip));
    if (pair !== undefined) byIP[ip] = pair;
  }
  return byIP;
}

// The number of entries of a Map or an array (an array's items may be unnamed or repeat, so
// only an upper bound); undefined for an object (counting its keys is a pass of its own).
function fastEntryCount(raw) {
  if (raw instanceof Map) return raw.size;
  if (Array.isArray(raw)) return raw.length;
  return undefined;
}

function unrecognised(options, label, raw) {
  options.reject(label, raw);
  return undefined;
}

function entriesObject(entries) {
  const byIP = emptyNameMap();
  for (const [ip, count] of entries) byIP[ip] = count;
  return byIP;
}

// ---- grouping per network ---------------------------------------------------------------------

// Sums per network: { keys: [networkKey], values: [sum], index: Map<networkKey, i> }, networks in
// order of first appearance, or undefined for an unrecognised shape. Each IP counts once, as in
// the object an ungrouped answer holds: a name given twice (an array, or a Map whose keys become
// equal as strings) keeps its last valid value, so the sums are those the exporter computes from
// the ungrouped answer. Entries whose value is invalid are left out, as they are ungrouped.
// `only` (a Map keyed by networkKey): sum only those networks.
async function groupNamed(raw, grouping, kind, slicer, only, hint) {
  let source = raw;
  if (Array.isArray(raw) || (raw instanceof Map && !(await hasOnlyStringKeys(raw, slicer)))) {
    source = (await nameTableOf(raw, kIpKeys, kind === 'pairs' ? throughputPair : countGauge, slicer))?.asMap();
    if (source === undefined) return undefined;
  } else if (!(raw instanceof Map) && !isPlainObject(raw)) {
    return undefined;
  }
  const groups = {
    keys: [], values: [], ins: [], outs: [], index: new NetworkIndex(), grouping, only,
    // The names seen and their network keys by position, and those of an earlier pass (`hint`):
    // a proxy that builds both maps from one connection table lists the IPs in the same order,
    // and the second pass then finds each network without parsing the address again.
    seenNames: kind === 'counts' && source === raw ? [] : undefined,
    seenKeys: [],
    hint: source === raw ? hint : undefined,
    position: 0,
  };
  const add = kind === 'pairs' ? addPair : addCount;
  if (source instanceof Map) {
    for (const [name, value] of source) {
      add(groups, name, value);
      if ((++groups.position & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
  } else {
    const names = Object.keys(source);
    for (let i = 0; i < names.length; i += 1) {
      add(groups, names[i], source[names[i]]);
      if ((++groups.position & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
  }
  if (kind === 'pairs') {
    // One object per network: 90k of them is a block of its own, so this is sliced too.
    for (let i = 0; i < groups.keys.length; i += 1) {
      groups.values.push({ in: groups.ins[i], out: groups.outs[i] });
      if (((i + 1) & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
  }
  if (groups.seenNames !== undefined) groups.positions = { names: groups.seenNames, keys: groups.seenKeys };
  return groups;
}

// networkKey -> group index, in kShards Maps picked by the key's low bits. One Map of 90k
// networks (clients from that many /24s and /64s) doubles its table at 65,536 entries, and that
// one set() copies every entry: a ~2 ms block that slicing cannot split. A shard holds 1/16th of
// the networks, so its rehash is 1/16th of that. A skewed spread (keys chosen by a client) only
// makes one shard larger: the sums stay exact.
const kShards = 16;

class NetworkIndex {
  constructor() {
    this.shards = Array.from({ length: kShards }, () => new Map());
  }

  shardOf(key) {
    if (typeof key === 'number') return this.shards[key & (kShards - 1)];
    // An IPv6 key: its last 16-bit unit is the lowest group the prefix covers. undefined: invalid.
    return this.shards[key === undefined ? 0 : key.charCodeAt(key.length - 1) & (kShards - 1)];
  }

  get(key) {
    return this.shardOf(key).get(key);
  }

  set(key, index) {
    this.shardOf(key).set(key, index);
  }
}

// The index of the group `name` belongs to, created when new; -1 when `only` leaves it out.
function groupOf(groups, name) {
  const { hint, position } = groups;
  const key = hint !== undefined && hint.names[position] === name
    ? hint.keys[position]
    : networkKey(name, groups.grouping.ipv4Prefix, groups.grouping.ipv6Prefix);
  if (groups.seenNames !== undefined) {
    groups.seenNames[position] = name;
    groups.seenKeys[position] = key;
  }
  const at = groups.index.get(key);
  if (at !== undefined) return at;
  if (groups.only !== undefined && !groups.only.has(key)) return -1;
  groups.index.set(key, groups.keys.length);
  groups.keys.push(key);
  return groups.keys.length - 1;
}

function addCount(groups, name, value) {
  // A bare finite number >= 0 is the common case: no call for it.
  const count = typeof value === 'number' && value >= 0 && value !== Infinity ? value : countGauge(value);
  if (count === undefined) return;
  const at = groupOf(groups, name);
  if (at === groups.values.length) groups.values.push(count);
  else groups.values[at] += count;
}

// The sums stay two arrays of numbers while adding: no object per IP.
function addPair(groups, name, value) {
  if (value === null || typeof value !== 'object') return;
  const inValue = gaugeValue(value.in);
  const outValue = gaugeValue(value.out);
  if (inValue === undefined || outValue === undefined) return;
  const at = groupOf(groups, name);
  if (at < 0) return;
  if (at === groups.ins.length) {
    groups.ins.push(inValue);
    groups.outs.push(outValue);
  } else {
    groups.ins[at] += inValue;
    groups.outs[at] += outValue;
  }
}

async function hasOnlyStringKeys(map, slicer) {
  let n = 0;
  for (const key of map.keys()) {
    if (typeof key !== 'string') return false;
    if ((++n & kCheckMask) === 0 && slicer.due()) await slicer.yield();
  }
  return true;
}

function groupCounts(raw, grouping, slicer) {
  return groupNamed(raw, grouping, 'counts', slicer);
}

function groupPairs(raw, grouping, networks, slicer, hint) {
  return groupNamed(raw, grouping, 'pairs', slicer, networks, hint);
}

// A NameTable of every group, texts in order of first appearance (distinct keys, distinct texts).
async function groupTable(groups, grouping, valueAt, slicer) {
  const table = new NameTable({ unique: true });
  for (let i = 0; i < groups.keys.length; i += 1) {
    table.set(networkText(groups.keys[i], grouping.ipv4Prefix, grouping.ipv6Prefix), valueAt(i));
    if (((i + 1) & kCheckMask) === 0 && slicer.due()) await slicer.yield();
  }
  return table;
}

async function groupedConnections(groups, ipLimit, grouping, slicer) {
  const base = { distinctNetworks: groups.keys.length };
  if (ipLimit === undefined) {
    return { ...base, byIP: await groupTable(groups, grouping, (i) => groups.values[i], slicer), selection: undefined };
  }
  // Top N networks; a network's text is written only when it may enter the heap (ties are
  // broken by the text, as the exporter does).
  const { ipv4Prefix, ipv6Prefix } = grouping;
  const top = new TopN(ipLimit);
  const keyOfText = new Map();
  if (ipLimit > 0) {
    for (let i = 0; i < groups.keys.length; i += 1) {
      const count = groups.values[i];
      if (top.admits(count)) {
        const text = networkText(groups.keys[i], ipv4Prefix, ipv6Prefix);
        keyOfText.set(text, groups.keys[i]);
        top.offer(count, text);
      }
      if (((i + 1) & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
  }
  const entries = top.entries();
  const networks = new Map();
  for (const [text] of entries) {
    const key = keyOfText.get(text);
    networks.set(key, { key, text });
  }
  return { ...base, byIP: entriesObject(entries), selection: { networks, positions: groups.positions } };
}
