// Picks the N client IPs with the most active connections without sorting all of them: a bounded
// min-heap of N entries makes one pass over the map, O(M log N) for M IPs instead of O(M log M),
// and allocates nothing per entry. This runs on the proxy's event loop, so it has to be cheap.
import { forEachEntry, gaugeValue } from './values.js';

// "Better" = more connections; ties go to the smaller IP string so the choice is stable
// (protocol v1: "ties broken in any stable way").
function isBetter(countA, ipA, countB, ipB) {
  return countA > countB || (countA === countB && ipA < ipB);
}

/**
 * Returns up to `limit` [ip, count] entries of a Map or object of IP -> count, most connections
 * first. Entries whose count is not a finite non-negative number are skipped.
 */
export function topEntries(collection, limit) {
  if (!(limit > 0)) return [];
  const ips = [];
  const counts = [];
  forEachEntry(collection, (rawCount, rawIp) => {
    const count = gaugeValue(rawCount);
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
 * most `limit`. IMetrics.connections.topIPs returns Array<{ ip, count }>; `connections` is accepted
 * as the count's name too, in case an older getTopIPs used it.
 */
export function topEntriesFromList(list, limit) {
  const entries = [];
  if (!Array.isArray(list)) return entries;
  const seen = new Set();
  for (const item of list) {
    if (entries.length >= limit) break;
    if (item === null || typeof item !== 'object' || typeof item.ip !== 'string') continue;
    const count = gaugeValue(item.count ?? item.connections);
    if (count === undefined || seen.has(item.ip)) continue;
    seen.add(item.ip);
    entries.push([item.ip, count]);
  }
  return entries;
}
