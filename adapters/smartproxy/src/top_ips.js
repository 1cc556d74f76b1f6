// Picks the N client IPs with the most active connections without sorting all of them: a bounded
// min-heap of N entries makes one pass over the map, O(M log N) for M IPs instead of O(M log M),
// and allocates nothing per entry. This runs on the proxy's event loop, so it has to be cheap.
import { countOf, forEachNamed, gaugeValue, isPlainObject } from './values.js';

const kIpKeys = ['ip'];

// "Better" = more connections; ties go to the smaller IP string so the choice is stable
// (protocol v1: "ties broken in any stable way").
function isBetter(countA, ipA, countB, ipB) {
  return countA > countB || (countA === countB && ipA < ipB);
}

/**
 * Returns up to `limit` [ip, count] entries of a collection of IP -> count (a Map, an object, or
 * an array of [ip, count] / {ip, count} items: values.forEachNamed), most connections first, or
 * undefined when the shape is not recognised. Entries whose count is invalid are skipped.
 */
export function topEntries(collection, limit) {
  if (!(limit > 0)) {
    // Nothing to select: answer without a pass over what may be 100k IPs.
    const known = collection instanceof Map || Array.isArray(collection) || isPlainObject(collection);
    return known ? [] : undefined;
  }
  const ips = [];
  const counts = [];
  const recognised = forEachNamed(collection, kIpKeys, (value, rawIp) => {
    // A bare number is the common case, and this runs once per client IP: no record lookup.
    const count = gaugeValue(typeof value === 'number' ? value : countOf(value));
    if (count === undefined) return;
    const ip = String(rawIp);
    if (ips.length < limit) {
      ips.push(ip);
      counts.push(count);
      siftUp(ips, counts, ips.length - 1);
    } else if (isBetter(count, ip, counts[0], ips[0])) {
      ips[0] = ip;
      counts[0] = count;
      siftDown(ips, counts, 0);
    }
  });
  if (!recognised) return undefined;
  const entries = ips.map((ip, index) => [ip, counts[index]]);
  entries.sort((a, b) => (isBetter(a[1], a[0], b[1], b[0]) ? -1 : 1));
  return entries;
}

// Min-heap on "worse first": the root is the entry the next better IP replaces.
function siftUp(ips, counts, index) {
  while (index > 0) {
    const parent = (index - 1) >> 1;
    if (!isBetter(counts[parent], ips[parent], counts[index], ips[index])) return;
    swap(ips, counts, index, parent);
    index = parent;
  }
}

function siftDown(ips, counts, index) {
  const size = ips.length;
  for (;;) {
    const left = 2 * index + 1;
    const right = left + 1;
    let worst = index;
    if (left < size && isBetter(counts[worst], ips[worst], counts[left], ips[left])) worst = left;
    if (right < size && isBetter(counts[worst], ips[worst], counts[right], ips[right])) worst = right;
    if (worst === index) return;
    swap(ips, counts, index, worst);
    index = worst;
  }
}

function swap(ips, counts, a, b) {
  [ips[a], ips[b]] = [ips[b], ips[a]];
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
