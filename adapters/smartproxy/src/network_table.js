// The networks of a grouping (?ipv4Prefix=&ipv6Prefix=): a hash table from a network to a small
// integer, its group, numbered in order of first appearance. Parallel arrays indexed by group
// hold what is summed (ip_selection.js). Built for 100k client IPs from nearly as many networks
// on the proxy's event loop:
//
// - no object, string or Map entry per network: a network is a kind and two 32-bit words (four
//   for an IPv6 prefix over 64; ip_network.js networkWords) kept in typed arrays, and its text
//   is written only for the networks that are served;
// - the slots sized for the number of addresses up front (a network per address at most), so
//   that they are not rehashed while the table is filled: a Map of 90k entries doubles its
//   table at 65,536 entries, and that one set() copies every entry in one block (~2 ms) that
//   slicing cannot split. The networks' own arrays grow by doubling (copies of bytes), so that few
//   networks cost little; the slots are still rehashed (doubling)
//   if more networks come than were announced;
// - open addressing with linear probing at a load of at most 1/2; the hash is seeded per table
//   (a client that picks its addresses cannot pick collisions across proxies; collisions only
//   cost time, never correctness).
import { networkMasks, networkWords, wordsText } from './ip_network.js';

// scratch: the words of the name being looked up (single-threaded, never re-entered).
const scratch = new Int32Array(4);

const kFirstGroups = 1024;

export class NetworkTable {
  /** grouping: { ipv4Prefix, ipv6Prefix }; expected: how many addresses will be added (a hint). */
  constructor(grouping, expected = 0) {
    this.ipv4Prefix = grouping.ipv4Prefix;
    this.ipv6Prefix = grouping.ipv6Prefix;
    this.masks = networkMasks(grouping.ipv4Prefix, grouping.ipv6Prefix);
    // Words kept per network: an IPv6 prefix of 64 bits or less leaves the last two zero.
    this.stride = grouping.ipv6Prefix > 64 ? 4 : 2;
    /** How many networks (groups 0 .. size-1). */
    this.size = 0;
    const groups = Math.min(kFirstGroups, Math.max(16, expected | 0));
    this.kinds = new Uint8Array(groups);
    this.words = new Int32Array(groups * this.stride);
    this.allocateSlots(Math.max(groups, expected | 0) * 2);
    this.seed = (Math.random() * 0x100000000) | 0;
  }

  /** How many groups the parallel arrays of a caller need at most right now (grows with add). */
  get capacity() {
    return this.kinds.length;
  }

  /**
   * The group of the network of `name` (any value: what is not an address is the group of
   * "invalid"), added when new if `add`; -1 when it is new and not added.
   */
  groupOf(name, add) {
    const w = scratch;
    const kind = networkWords(name, this.masks, w);
    const w0 = w[0];
    const w1 = w[1];
    const w2 = w[2];
    const w3 = w[3];
    const { slots, words, kinds, stride } = this;
    const mask = slots.length - 1;
    let slot = hashOf(this.seed, kind, w0, w1, w2, w3) >>> this.shift;
    for (;;) {
      const stored = slots[slot];
      if (stored === 0) break;
      const group = stored - 1;
      const at = group * stride;
      if (kinds[group] === kind && words[at] === w0 && words[at + 1] === w1 &&
          (stride === 2 || (words[at + 2] === w2 && words[at + 3] === w3))) {
        return group;
      }
      slot = (slot + 1) & mask;
    }
    if (!add) return -1;
    const group = this.size;
    if (group === kinds.length) this.growGroups();
    this.kinds[group] = kind;
    const at = group * stride;
    this.words[at] = w0;
    this.words[at + 1] = w1;
    if (stride === 4) {
      this.words[at + 2] = w2;
      this.words[at + 3] = w3;
    }
    this.size = group + 1;
    if (this.size * 2 > slots.length) {
      this.allocateSlots(slots.length * 2);
      this.rehash();
    } else {
      slots[slot] = group + 1;
    }
    return group;
  }

  /** The network text of `group`: "203.0.113.0/24", "2001:db8::/64", "invalid". */
  textOf(group) {
    const { words, stride } = this;
    const at = group * stride;
    return wordsText(this.kinds[group], words[at], words[at + 1], stride === 4 ? words[at + 2] : 0,
      stride === 4 ? words[at + 3] : 0, this.ipv4Prefix, this.ipv6Prefix);
  }

  allocateSlots(atLeast) {
    let bits = 5;
    while ((1 << bits) < atLeast) bits += 1;
    this.slots = new Int32Array(1 << bits);
    this.shift = 32 - bits;
  }

  growGroups() {
    const kinds = new Uint8Array(this.kinds.length * 2);
    kinds.set(this.kinds);
    const words = new Int32Array(this.words.length * 2);
    words.set(this.words);
    this.kinds = kinds;
    this.words = words;
  }

  // Every group into the (new, empty) slots.
  rehash() {
    const { slots, words, kinds, stride } = this;
    const mask = slots.length - 1;
    for (let group = 0; group < this.size; group += 1) {
      const at = group * stride;
      const w2 = stride === 4 ? words[at + 2] : 0;
      const w3 = stride === 4 ? words[at + 3] : 0;
      let slot = hashOf(this.seed, kinds[group], words[at], words[at + 1], w2, w3) >>> this.shift;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = group + 1;
    }
  }
}

// 32 bits of a network. The caller keeps the high bits: a product's low bits depend only on the
// factors' low bits (and a /24's low 8 bits are all zero).
function hashOf(seed, kind, w0, w1, w2, w3) {
  let h = Math.imul(seed ^ kind ^ w0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ w3, 0x27d4eb2f);
  return h ^ (h >>> 15);
}

/** A copy of `array` (a typed array) at least `length` long, zero-filled past the old end. */
export function grownTo(array, length) {
  if (array.length >= length) return array;
  const bigger = new array.constructor(Math.max(length, array.length * 2));
  bigger.set(array);
  return bigger;
}
