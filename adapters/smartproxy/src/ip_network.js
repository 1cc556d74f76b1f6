// The network of a client IP, for anonymisation at the source (docs/snapshot-protocol.md,
// "IP grouping"). It must give exactly the text the exporter's own grouping gives
// (exporter/conversion/src/ip_aggregation.cc, IpNetwork): glibc's inet_pton decides what is an
// address, host bits are cleared, and glibc's inet_ntop writes the result. Node's net module is
// not used: it accepts zone ids ("fe80::1%eth0") and other forms inet_pton refuses, and has no
// formatter. Both functions below follow glibc's resolv/inet_pton.c and resolv/inet_ntop.c (the
// BIND 4.9.4 code) step by step, so the quirks match: no leading zeros in IPv4 octets, at most
// four hex digits per group, one "::", an embedded IPv4 only at the end; in the output, the
// longest run of two or more zero groups (the first on ties) becomes "::", and an address whose
// first 96 bits are zero (or first 80 zero and then ffff) is printed with a dotted IPv4 tail.
//
// Two ways in: networkKey() / ipNetwork() are that step-by-step transliteration, the reference
// (the fixture test holds them to glibc); networkWords() is the grouping's fast path
// (network_table.js), tested to decide exactly as networkKey() on the fixture, hand-picked forms
// and random texts. Both write text through the same formatter.

/** The key under which an entry that is not an IP address is summed (the exporter's label). */
export const kInvalidNetwork = 'invalid';

const kColon = 58;
const kDot = 46;

// scratch: 16 bytes reused by every call (single-threaded, never re-entered).
const scratch = new Uint8Array(16);

/**
 * A grouping key for `ip` under the prefixes, cheap to hash: a number for IPv4 (the network
 * bits as an integer: a small integer for any prefix up to 30), a string of 16-bit units for
 * IPv6 (the groups the prefix covers, host bits cleared), or undefined when `ip` is not an
 * address. networkText(key, ...) writes the network, once per group. IPv4-mapped IPv6
 * addresses (::ffff:a.b.c.d) give the IPv4 key.
 */
export function networkKey(ip, ipv4Prefix, ipv6Prefix) {
  if (typeof ip !== 'string') return undefined;
  const v4 = parseIPv4(ip, 0, ip.length);
  if (v4 >= 0) return ipv4Key(v4, ipv4Prefix);
  // The form dual-stack sockets report, without the general parser: "::ffff:" then a dotted
  // quad is exactly what inet_pton reads as 0:0:0:0:0:ffff:a.b.c.d.
  if (ip.length > 7 && (ip.charCodeAt(6) === kColon) && /^::ffff:/i.test(ip)) {
    const mapped = parseIPv4(ip, 7, ip.length);
    if (mapped >= 0) return ipv4Key(mapped, ipv4Prefix);
  }
  if (!parseIPv6(ip, scratch)) return undefined;
  const b = scratch;
  if (b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0 && b[4] === 0 && b[5] === 0 &&
      b[6] === 0 && b[7] === 0 && b[8] === 0 && b[9] === 0 && b[10] === 0xff && b[11] === 0xff) {
    return ipv4Key(((b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15]) >>> 0, ipv4Prefix);
  }
  clearHostBits(b, ipv6Prefix);
  // One string of the groups the prefix covers (a /64: four), cheap to hash.
  const groups = (ipv6Prefix + 15) >> 4;
  if (groups === 4) {
    return String.fromCharCode((b[0] << 8) | b[1], (b[2] << 8) | b[3], (b[4] << 8) | b[5], (b[6] << 8) | b[7]);
  }
  let key = '';
  for (let i = 0; i < groups; i += 1) key += String.fromCharCode((b[2 * i] << 8) | b[2 * i + 1]);
  return key;
}

/** The network text of a networkKey(): "203.0.113.0/24", "2001:db8::/64"; kInvalidNetwork for undefined. */
export function networkText(key, ipv4Prefix, ipv6Prefix) {
  if (key === undefined) return kInvalidNetwork;
  if (typeof key === 'number') {
    const address = ipv4Prefix === 0 ? 0 : key * 2 ** (32 - ipv4Prefix);
    return `${Math.floor(address / 16777216)}.${Math.floor(address / 65536) % 256}.` +
      `${Math.floor(address / 256) % 256}.${address % 256}/${ipv4Prefix}`;
  }
  const words = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < key.length; i += 1) words[i] = key.charCodeAt(i);
  return `${formatIPv6(words)}/${ipv6Prefix}`;
}

/** The network of `ip` as the exporter writes it, or undefined when `ip` is not an address. */
export function ipNetwork(ip, ipv4Prefix, ipv6Prefix) {
  const key = networkKey(ip, ipv4Prefix, ipv6Prefix);
  return key === undefined ? undefined : networkText(key, ipv4Prefix, ipv6Prefix);
}

// ---- the fast path: networks as 32-bit words, for the grouping's hash table ------------------
//
// networkWords() decides exactly what networkKey() decides (test/ip_network.test.mjs compares
// them on hand-picked and random inputs), in one pass over the text and without allocating: an
// IPv4 dotted quad is read straight into its network address (no regular expression, no second
// pass for "::ffff:"), an IPv6 address into eight 16-bit groups (not sixteen bytes, no fill) with
// a table for hex digits, and the network is written as 32-bit words into `out`. At 100k mixed
// addresses: ~8 ms instead of ~12 (bench/snapshot-cost.mjs's fake; its names are cons strings).

/** networkWords(): what `ip` is. */
export const kNotAnAddress = 0;
export const kIPv4Network = 4;
export const kIPv6Network = 6;

/** The masks networkWords() applies: [IPv4, IPv6 bits 0-31, 32-63, 64-95, 96-127], as int32. */
export function networkMasks(ipv4Prefix, ipv6Prefix) {
  const maskOf = (prefix, first) => {
    if (prefix >= first + 32) return -1;
    if (prefix <= first) return 0;
    return -1 << (first + 32 - prefix);
  };
  return Int32Array.of(maskOf(ipv4Prefix, 0), maskOf(ipv6Prefix, 0), maskOf(ipv6Prefix, 32),
    maskOf(ipv6Prefix, 64), maskOf(ipv6Prefix, 96));
}

// The value of an ASCII hex digit, -1 for any other character below 128.
const kHexDigits = Int8Array.from({ length: 128 }, (_, ch) => hexValue(ch));

// scratch: the eight groups of the IPv6 address being read (single-threaded, never re-entered).
const groups16 = new Int32Array(8);

/**
 * The network of `ip` under `masks` (networkMasks()) into out[0..4): for IPv4 (IPv4-mapped IPv6
 * included) the network address in out[0] and zeros, for IPv6 the 128 bits with host bits
 * cleared, four words, most significant first; zeros when `ip` is not an address. Returns
 * kIPv4Network, kIPv6Network or kNotAnAddress, as networkKey() decides.
 */
export function networkWords(ip, masks, out) {
  out[0] = 0;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  if (typeof ip !== 'string') return kNotAnAddress;
  const end = ip.length;
  // A dotted quad, inet_pton4's rules, in int32 arithmetic. Digits and dots only: a text that
  // stops being one before its first dot may still be IPv6 ("2001:…", "01::1"); one that has a
  // dot cannot (inet_pton6 takes a dot only in an IPv4 tail after a colon).
  let octets = 0;
  let current = -1; // -1: no digit in this octet yet
  let address = 0;
  let sawDot = false;
  let i = 0;
  for (; i < end; i += 1) {
    const ch = ip.charCodeAt(i);
    if (ch >= 48 && ch <= 57) {
      if (current === 0) break; // a leading zero ("01"): not IPv4
      if (current < 0) {
        octets += 1;
        current = ch - 48;
      } else {
        current = current * 10 + (ch - 48);
        if (current > 255) break;
      }
    } else if (ch === kDot) {
      if (current < 0 || octets === 4) return kNotAnAddress;
      address = (address << 8) | current;
      current = -1;
      sawDot = true;
    } else {
      break;
    }
  }
  if (i === end) {
    if (octets < 4 || current < 0) return kNotAnAddress;
    out[0] = ((address << 8) | current) & masks[0];
    return kIPv4Network;
  }
  if (sawDot) return kNotAnAddress;
  return ipv6Words(ip, end, masks, out);
}

function ipv6Words(s, end, masks, out) {
  const w = groups16;
  let i = 0;
  if (s.charCodeAt(0) === kColon) {
    // A leading "::" needs special handling.
    i = 1;
    if (i === end || s.charCodeAt(i) !== kColon) return kNotAnAddress;
  }
  let tp = 0; // groups written
  let colonp = -1;
  let curtok = i;
  let xdigits = 0;
  let val = 0;
  while (i < end) {
    const ch = s.charCodeAt(i);
    i += 1;
    const digit = ch < 128 ? kHexDigits[ch] : -1;
    if (digit >= 0) {
      if (xdigits === 4) return kNotAnAddress;
      val = (val << 4) | digit;
      xdigits += 1;
      continue;
    }
    if (ch === kColon) {
      curtok = i;
      if (xdigits === 0) {
        if (colonp >= 0) return kNotAnAddress;
        colonp = tp;
        continue;
      }
      if (i === end || tp === 8) return kNotAnAddress;
      w[tp++] = val;
      xdigits = 0;
      val = 0;
      continue;
    }
    if (ch === kDot && tp <= 6) {
      const v4 = parseIPv4(s, curtok, end);
      if (v4 >= 0) {
        w[tp++] = v4 >>> 16;
        w[tp++] = v4 & 0xffff;
        xdigits = 0;
        break;
      }
    }
    return kNotAnAddress;
  }
  if (xdigits > 0) {
    if (tp === 8) return kNotAnAddress;
    w[tp++] = val;
  }
  if (colonp >= 0) {
    // "::" would expand to a zero-width field.
    if (tp === 8) return kNotAnAddress;
    const n = tp - colonp;
    for (let k = 1; k <= n; k += 1) w[8 - k] = w[colonp + n - k];
    for (let k = colonp; k < 8 - n; k += 1) w[k] = 0;
  } else if (tp !== 8) {
    return kNotAnAddress;
  }
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    out[0] = ((w[6] << 16) | w[7]) & masks[0];
    return kIPv4Network;
  }
  out[0] = ((w[0] << 16) | w[1]) & masks[1];
  out[1] = ((w[2] << 16) | w[3]) & masks[2];
  out[2] = ((w[4] << 16) | w[5]) & masks[3];
  out[3] = ((w[6] << 16) | w[7]) & masks[4];
  return kIPv6Network;
}

/** The network text of networkWords()' result: as networkText() writes it. */
export function wordsText(kind, w0, w1, w2, w3, ipv4Prefix, ipv6Prefix) {
  if (kind === kIPv4Network) {
    return `${w0 >>> 24}.${(w0 >>> 16) & 255}.${(w0 >>> 8) & 255}.${w0 & 255}/${ipv4Prefix}`;
  }
  if (kind !== kIPv6Network) return kInvalidNetwork;
  const words = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  return `${formatIPv6(words)}/${ipv6Prefix}`;
}

// The network bits of an IPv4 address (an unsigned integer) as an integer of `prefix` bits.
function ipv4Key(address, prefix) {
  if (prefix >= 32) return address;
  if (prefix <= 0) return 0;
  return address >>> (32 - prefix);
}

function clearHostBits(bytes, prefix) {
  for (let i = 0; i < 16; i += 1) {
    const first = i * 8;
    if (prefix >= first + 8) continue;
    const keep = prefix > first ? prefix - first : 0;
    bytes[i] &= (0xff00 >> keep) & 0xff;
  }
}

// glibc inet_pton4 over s[start, end): the address as an unsigned integer, or -1.
function parseIPv4(s, start, end) {
  let sawDigit = false;
  let octets = 0;
  let current = 0;
  let result = 0;
  for (let i = start; i < end; i += 1) {
    const ch = s.charCodeAt(i);
    if (ch >= 48 && ch <= 57) {
      if (sawDigit && current === 0) return -1; // a leading zero
      current = current * 10 + (ch - 48);
      if (current > 255) return -1;
      if (!sawDigit) {
        octets += 1;
        if (octets > 4) return -1;
        sawDigit = true;
      }
    } else if (ch === kDot && sawDigit) {
      if (octets === 4) return -1;
      result = result * 256 + current;
      current = 0;
      sawDigit = false;
    } else {
      return -1;
    }
  }
  if (octets < 4) return -1;
  return result * 256 + current;
}

function hexValue(ch) {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 102) return ch - 87;
  if (ch >= 65 && ch <= 70) return ch - 55;
  return -1;
}

// glibc inet_pton6 into bytes[0..16); false when `s` is not an IPv6 address.
function parseIPv6(s, bytes) {
  const end = s.length;
  if (end === 0) return false;
  bytes.fill(0);
  let i = 0;
  if (s.charCodeAt(0) === kColon) {
    // A leading "::" needs special handling.
    i = 1;
    if (i === end || s.charCodeAt(i) !== kColon) return false;
  }
  let tp = 0;
  let colonp = -1;
  let curtok = i;
  let xdigits = 0;
  let val = 0;
  while (i < end) {
    const ch = s.charCodeAt(i);
    i += 1;
    const digit = hexValue(ch);
    if (digit >= 0) {
      if (xdigits === 4) return false;
      val = (val << 4) | digit;
      xdigits += 1;
      continue;
    }
    if (ch === kColon) {
      curtok = i;
      if (xdigits === 0) {
        if (colonp >= 0) return false;
        colonp = tp;
        continue;
      }
      if (i === end) return false;
      if (tp + 2 > 16) return false;
      bytes[tp++] = val >> 8;
      bytes[tp++] = val & 0xff;
      xdigits = 0;
      val = 0;
      continue;
    }
    if (ch === kDot && tp + 4 <= 16) {
      const v4 = parseIPv4(s, curtok, end);
      if (v4 >= 0) {
        bytes[tp++] = v4 >>> 24;
        bytes[tp++] = (v4 >>> 16) & 0xff;
        bytes[tp++] = (v4 >>> 8) & 0xff;
        bytes[tp++] = v4 & 0xff;
        xdigits = 0;
        break;
      }
    }
    return false;
  }
  if (xdigits > 0) {
    if (tp + 2 > 16) return false;
    bytes[tp++] = val >> 8;
    bytes[tp++] = val & 0xff;
  }
  if (colonp >= 0) {
    // "::" would expand to a zero-width field.
    if (tp === 16) return false;
    const n = tp - colonp;
    for (let k = 1; k <= n; k += 1) {
      bytes[16 - k] = bytes[colonp + n - k];
      bytes[colonp + n - k] = 0;
    }
    tp = 16;
  }
  return tp === 16;
}

// glibc inet_ntop6 of eight 16-bit groups.
function formatIPv6(words) {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i += 1) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else {
        curLen += 1;
      }
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;

  let text = '';
  for (let i = 0; i < 8; i += 1) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) text += ':';
      continue;
    }
    if (i !== 0) text += ':';
    // An encapsulated IPv4 address (IPv4-compatible, or mapped).
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      text += `${words[6] >> 8}.${words[6] & 0xff}.${words[7] >> 8}.${words[7] & 0xff}`;
      return text;
    }
    text += words[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) text += ':';
  return text;
}
