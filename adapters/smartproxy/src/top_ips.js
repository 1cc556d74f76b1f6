// Picks the N client IPs (or networks) with the most active connections without sorting all of
// them: a bounded min-heap of N entries makes one pass over the map, O(M log N) for M IPs
// instead of O(M log M), and allocates nothing per entry. This runs on the proxy's event loop,
// so it has to be cheap, and over 100k IPs it runs in slices (selectTop).
import { countOf, forEachNamed, gaugeValue, isPlainObject, walkNamed } from './values.js';

const kIpKeys = ['ip'];

// "Better" = more connections; ties go to the smaller name so the choice is stable
// (protocol v1: "ties broken in any stable way"; the exporter breaks them the same way).
function isBetter(countA, nameA, countB, nameB) {
  return countA > countB || (countA === countB && nameA < nameB);
}

/** The `limit` best (count, name) pairs offered, most connections first (ties: smaller name). */
export class TopN {
  constructor(limit) {
    this.limit = limit;
    this.names = [];
    this.counts = [];
  }

  /** Whether an entry with `count` may still get in (false: it is certainly worse than all kept). */
  admits(count) {
    return this.names.length < this.limit || count >= this.counts[0];
  }

  offer(count, name) {
    const { names, counts } = this;
    if (names.length < this.limit) {
      names.push(name);
      counts.push(count);
      siftUp(names, counts, names.length - 1);
    } else if (isBetter(count, name, counts[0], names[0])) {
      names[0] = name;
      counts[0] = count;
      siftDown(names, counts, 0);
    }
  }

  /** [name, count] entries, best first. */
  entries() {
    const entries = this.names.map((name, index) => [name, this.counts[index]]);
    entries.sort((a, b) => (isBetter(a[1], a[0], b[1], b[0]) ? -1 : 1));
    return entries;
  }
}

function offerEntry(top, value, rawIp) {
  // A bare number is the common case, and this runs once per client IP: no record lookup.
  const count = gaugeValue(typeof value === 'number' ? value : countOf(value));
  if (count === undefined || !top.admits(count)) return;
  top.offer(count, String(rawIp));
}

function isKnownShape(collection) {
  return collection instanceof Map || Array.isArray(collection) || isPlainObject(collection);
}

/**
 * Returns up to `limit` [ip, count] entries of a collection of IP -> count (a Map, an object, or
 * an array of [ip, count] / {ip, count} items: values.forEachNamed), most connections first, or
 * undefined when the shape is not recognised. Entries whose count is invalid are skipped.
 */
export function topEntries(collection, limit) {
  // Nothing to select: answer without a pass over what may be 100k IPs.
  if (!(limit > 0)) return isKnownShape(collection) ? [] : undefined;
  const top = new TopN(limit);
  const recognised = forEachNamed(collection, kIpKeys, (value, ip) => offerEntry(top, value, ip));
  return recognised ? top.entries() : undefined;
}

/** topEntries in slices (slices.js Slicer); resolves to the same result. */
export async function selectTop(collection, limit, slicer) {
  if (!(limit > 0)) return isKnownShape(collection) ? [] : undefined;
  const top = new TopN(limit);
  const recognised = await walkNamed(collection, kIpKeys, (value, ip) => offerEntry(top, value, ip), slicer);
  return recognised ? top.entries() : undefined;
}

// Min-heap on "worse first": the root is the entry the next better one replaces.
function siftUp(names, counts, index) {
  while (index > 0) {
    const parent = (index - 1) >> 1;
    if (!isBetter(counts[parent], names[parent], counts[index], names[index])) return;
    swap(names, counts, index, parent);
    index = parent;
  }
}

function siftDown(names, counts, index) {
  const size = names.length;
  for (;;) {
    const left = 2 * index + 1;
    const right = left + 1;
    let worst = index;
    if (left < size && isBetter(counts[worst], names[worst], counts[left], names[left])) worst = left;
    if (right < size && isBetter(counts[worst], names[worst], counts[right], names[right])) worst = right;
    if (worst === index) return;
    swap(names, counts, index, worst);
    index = worst;
  }
}

function swap(names, counts, a, b) {
  [names[a], names[b]] = [names[b], names[a]];
  [counts[a], counts[b]] = [counts[b], counts[a]];
}

/**
 * Normalises what a proxy's topIPs(n) / getTopIPs(n) returned into [ip, count] entries, keeping at
 * most `limit` in the proxy's order (the proxy already chose them), or undefined for an
 * unrecognised shape. IMetrics.connections.topIPs returns Array<{ ip, count }>; `connections` is
 * accepted as the count's name too, and a Map or object of IP -> count is selected here.
 */
export function topEntriesFromList(list, limit) {
  if (!Array.isArray(list)) return topEntries(list, limit);
  const entries = [];
  const seen = new Set();
  const recognised = forEachNamed(list, kIpKeys, (value, ip) => {
    if (entries.length >= limit || seen.has(ip)) return;
    const count = gaugeValue(countOf(value));
    if (count === undefined) return;
    seen.add(ip);
    entries.push([ip, count]);
  });
  return recognised ? entries : undefined;
}
