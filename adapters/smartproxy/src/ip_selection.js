// The two per-client maps of a snapshot, connections.byIP and throughput.byIP, from what the
// proxy's getters returned: every IP, the top N (?ips=N), or networks (?ipv4Prefix=&ipv6Prefix=,
// docs/snapshot-protocol.md "IP grouping"). They are the only parts of a snapshot that grow with
// the number of clients, so all of this runs in slices (slices.js) over data read once.
import { grownTo, NetworkTable } from './network_table.js';
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
 * selection }, where `selection` tells throughputByIP which names to list (undefined: all; grouped:
 * the networks, and the table and positions throughputByIP reuses).
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
    return groupedConnections(groups, ipLimit, slicer);
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
    const byIP = await groupedThroughput(raw, grouping, selection, slicer);
    return byIP === undefined ? unrecognised(options, label, raw) : byIP;
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
//
// Networks are groups of a NetworkTable (network_table.js): small integers in order of first
// appearance, with the sums in typed arrays indexed by group. Each IP counts once, as in the
// object an ungrouped answer holds: a name given twice (an array, or a Map whose keys become
// equal as strings) keeps its last valid value, so the sums are those the exporter computes from
// the ungrouped answer. Entries whose value is invalid are left out, as they are ungrouped.

// A Map key that is not a string: the Map is read through nameTableOf instead (1 and "1" are
// one name), from the start.
const kNotOnlyStrings = Symbol('a Map key that is not a string');

// The collection to group, as a Map of unique string names or a plain object; undefined for an
// unrecognised shape. An array (names may repeat, items may be records) is converted, in slices.
async function namedSource(raw, valueOf, slicer) {
  if (Array.isArray(raw)) return (await nameTableOf(raw, kIpKeys, valueOf, slicer))?.asMap();
  return raw instanceof Map || isPlainObject(raw) ? raw : undefined;
}

// Calls visit(state, name, value, position) for every entry of a Map or an object, in slices.
// Resolves to kNotOnlyStrings (and stops) at a Map key that is not a string. The entries are
// visited kCheckEvery at a time by a plain function (visitMapRun, visitObjectRun): V8 then
// optimises that loop as a whole, and a Map's keys and values come from two iterators moved in
// step, which allocates nothing per entry (a for-of over a Map builds a [name, value] array
// for each, 100k of them per pass; their scavenges land inside slices).
async function visitNamed(source, state, visit, slicer) {
  const run = { position: 0, done: false, keys: undefined, values: undefined };
  if (source instanceof Map) {
    // Two iterators of one Map at the same position stay at the same position: they see the
    // same entries, also when the Map changes between two slices.
    run.keys = source.keys();
    run.values = source.values();
    for (;;) {
      if (!visitMapRun(run, state, visit)) return kNotOnlyStrings;
      if (run.done) return undefined;
      if (slicer.due()) await slicer.yield();
    }
  }
  const names = state.objectNames;
  while (run.position < names.length) {
    visitObjectRun(run, names, source, state, visit);
    if (slicer.due()) await slicer.yield();
  }
  return undefined;
}

// Up to kCheckEvery entries of run.keys / run.values; false at a key that is not a string.
function visitMapRun(run, state, visit) {
  const { keys, values } = run;
  let { position } = run;
  for (let n = 0; n < kCheckEvery; n += 1) {
    const key = keys.next();
    if (key.done) {
      run.done = true;
      break;
    }
    const name = key.value;
    const value = values.next().value;
    if (typeof name !== 'string') return false;
    visit(state, name, value, position);
    position += 1;
  }
  run.position = position;
  return true;
}

function visitObjectRun(run, names, source, state, visit) {
  const end = Math.min(names.length, run.position + kCheckEvery);
  for (let i = run.position; i < end; i += 1) visit(state, names[i], source[names[i]], i);
  run.position = end;
}

// Groups a Map or an object with visit(); a Map with a key that is not a string is converted
// and grouped again. Resolves to the state, or undefined for an unrecognised shape.
async function groupNamed(raw, valueOf, makeState, visit, slicer) {
  let source = await namedSource(raw, valueOf, slicer);
  if (source === undefined) return undefined;
  for (;;) {
    const objectNames = source instanceof Map ? undefined : Object.keys(source);
    const state = makeState(source === raw, objectNames?.length ?? source.size);
    state.objectNames = objectNames;
    if (await visitNamed(source, state, visit, slicer) !== kNotOnlyStrings) return state;
    source = (await nameTableOf(raw, kIpKeys, valueOf, slicer))?.asMap();
  }
}

// connections.byIP per network: { table, counts, names, groupsAt }. `names` and `groupsAt` (by
// position; undefined for a converted source) let throughput.byIP skip parsing: a proxy that
// builds both maps from one connection table lists the IPs in the same order, and the second
// pass then finds each network by position.
function groupCounts(raw, grouping, slicer) {
  return groupNamed(raw, countGauge, (direct, size) => {
    const table = new NetworkTable(grouping, size);
    return {
      table,
      counts: new Float64Array(table.capacity),
      names: direct ? new Array(size) : undefined,
      groupsAt: direct ? new Int32Array(size) : undefined, // -1: the count was invalid
    };
  }, addCount, slicer);
}

function addCount(state, name, value, position) {
  // A bare finite number >= 0 is the common case: no call for it.
  const count = typeof value === 'number' && value >= 0 && value !== Infinity ? value : countGauge(value);
  let group = -1;
  if (count !== undefined) {
    const { table } = state;
    const size = table.size;
    group = table.groupOf(name, true);
    if (group === size) {
      if (group >= state.counts.length) state.counts = grownTo(state.counts, table.capacity);
      state.counts[group] = count;
    } else {
      state.counts[group] += count;
    }
  }
  if (state.names !== undefined) {
    state.names[position] = name;
    if (position >= state.groupsAt.length) state.groupsAt = grownTo(state.groupsAt, position + 1);
    state.groupsAt[position] = group;
  }
}

// throughput.byIP per network. `base`: what groupCounts gave for connections.byIP (its table
// and positions are used), or undefined. `chosen`: { groups, texts } of the cut (only those
// networks are summed), or undefined for every network. Resolves to { table, ins, outs, slotOf,
// seen, order } (see addPair), or undefined for an unrecognised shape.
function groupPairs(raw, grouping, base, chosen, slicer) {
  return groupNamed(raw, throughputPair, (direct, size) => {
    const table = base?.table ?? new NetworkTable(grouping, size);
    const slots = chosen !== undefined ? chosen.groups.length : Math.min(size, table.capacity);
    const state = {
      table,
      hint: direct && base?.names !== undefined ? base : undefined,
      ins: new Float64Array(slots),
      outs: new Float64Array(slots),
      // By group: its slot in ins/outs + 1, 0 for none yet. With a cut, set for the chosen
      // networks up front and never extended.
      slotOf: new Int32Array(chosen !== undefined ? table.size : table.capacity),
      seen: chosen !== undefined ? new Uint8Array(slots) : undefined, // a slot got a pair
      order: chosen !== undefined ? undefined : [], // without a cut: the groups by slot
    };
    if (chosen !== undefined) chosen.groups.forEach((group, slot) => { state.slotOf[group] = slot + 1; });
    return state;
  }, addPair, slicer);
}

// The sums stay two arrays of numbers while adding: no object per IP.
function addPair(state, name, value, position) {
  if (value === null || typeof value !== 'object') return;
  const inValue = gaugeValue(value.in);
  const outValue = gaugeValue(value.out);
  if (inValue === undefined || outValue === undefined) return;
  const { hint, table, order } = state;
  let group = hint !== undefined && hint.names[position] === name ? hint.groupsAt[position] : -1;
  if (group < 0) group = table.groupOf(name, order !== undefined);
  if (group < 0) return;
  let slot;
  if (order === undefined) {
    // A cut: only the chosen networks.
    if (group >= state.slotOf.length) return;
    slot = state.slotOf[group] - 1;
    if (slot < 0) return;
    if (state.seen[slot] === 0) {
      state.seen[slot] = 1;
      state.ins[slot] = inValue;
      state.outs[slot] = outValue;
      return;
    }
  } else {
    if (group >= state.slotOf.length) state.slotOf = grownTo(state.slotOf, table.capacity);
    slot = state.slotOf[group] - 1;
    if (slot < 0) {
      slot = order.length;
      order.push(group);
      state.slotOf[group] = slot + 1;
      if (slot >= state.ins.length) {
        state.ins = grownTo(state.ins, slot + 1);
        state.outs = grownTo(state.outs, slot + 1);
      }
      state.ins[slot] = inValue;
      state.outs[slot] = outValue;
      return;
    }
  }
  state.ins[slot] += inValue;
  state.outs[slot] += outValue;
}

// A NameTable of texts (in group order) and values; distinct networks, distinct texts.
async function groupTable(count, textAt, valueAt, slicer) {
  const table = new NameTable({ unique: true });
  for (let i = 0; i < count; i += 1) {
    table.set(textAt(i), valueAt(i));
    if (((i + 1) & kCheckMask) === 0 && slicer.due()) await slicer.yield();
  }
  return table;
}

async function groupedConnections(groups, ipLimit, slicer) {
  const { table, counts } = groups;
  const base = { distinctNetworks: table.size };
  if (ipLimit === undefined) {
    const byIP = await groupTable(table.size, (g) => table.textOf(g), (g) => counts[g], slicer);
    return { ...base, byIP, selection: { grouped: groups, chosen: undefined } };
  }
  // Top N networks; a network's text is written only when it may enter the heap (ties are
  // broken by the text, as the exporter does).
  const top = new TopN(ipLimit);
  const groupOfText = new Map();
  if (ipLimit > 0) {
    for (let g = 0; g < table.size; g += 1) {
      const count = counts[g];
      if (top.admits(count)) {
        const text = table.textOf(g);
        groupOfText.set(text, g);
        top.offer(count, text);
      }
      if (((g + 1) & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
  }
  const entries = top.entries();
  const chosen = {
    groups: Int32Array.from(entries, ([text]) => groupOfText.get(text)),
    texts: entries.map(([text]) => text),
  };
  return { ...base, byIP: entriesObject(entries), selection: { grouped: groups, chosen } };
}

// throughput.byIP per network: the chosen networks in the cut's order (those with any
// throughput), or every network in order of first appearance.
async function groupedThroughput(raw, grouping, selection, slicer) {
  const chosen = selection?.chosen;
  const groups = await groupPairs(raw, grouping, selection?.grouped, chosen, slicer);
  if (groups === undefined) return undefined;
  const { table, ins, outs, order } = groups;
  if (chosen === undefined) {
    return groupTable(order.length, (slot) => table.textOf(order[slot]),
      (slot) => ({ in: ins[slot], out: outs[slot] }), slicer);
  }
  const byIP = emptyNameMap();
  for (let slot = 0; slot < chosen.texts.length; slot += 1) {
    if (groups.seen[slot] === 1) byIP[chosen.texts[slot]] = { in: ins[slot], out: outs[slot] };
  }
  return byIP;
}
