// Number hygiene for protocol v1 (docs/snapshot-protocol.md, "Rules" 1 and 3): every number is
// finite and non-negative, counters are integers no larger than 2^53, an {in, out} pair needs both
// members. A value that breaks a rule is dropped (undefined), never replaced by zero: a made-up
// zero would be exported as truth, an absent field is simply not exported. And the collection
// shapes the adapter accepts (forEachNamed): undefined for any other shape, so the caller can
// leave the field out and count it.
import { kCheckEvery } from './slices.js';

export const kMaxCounter = 2 ** 53;
const kQuantileNames = ['p50', 'p95', 'p99'];

/** A finite number >= 0 (a BigInt is converted when exact), else undefined. */
export function gaugeValue(value) {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  }
  if (typeof value === 'bigint') {
    return value >= 0n && value <= BigInt(kMaxCounter) ? Number(value) : undefined;
  }
  return undefined;
}

/** An integer in [0, 2^53], rounded down (a counter never runs ahead of what happened), else undefined. */
export function counterValue(value) {
  const gauge = gaugeValue(value);
  if (gauge === undefined) return undefined;
  const whole = Math.floor(gauge);
  return whole <= kMaxCounter ? whole : undefined;
}

/** {in, out} when both are valid gauges, else undefined. */
export function inOutPair(inValue, outValue) {
  const inGauge = gaugeValue(inValue);
  const outGauge = gaugeValue(outValue);
  return inGauge === undefined || outGauge === undefined ? undefined : { in: inGauge, out: outGauge };
}

/** {in, out} from an object shaped like SmartProxy's IThroughputData, else undefined. */
export function throughputPair(data) {
  return data !== null && typeof data === 'object' ? inOutPair(data.in, data.out) : undefined;
}

/** The valid ones of {p50, p95, p99}; undefined when none is valid. */
export function quantiles(source) {
  if (source === null || typeof source !== 'object') return undefined;
  let result;
  for (const name of kQuantileNames) {
    const value = gaugeValue(source[name]);
    if (value !== undefined) (result ??= {})[name] = value;
  }
  return result;
}

/**
 * Calls visit(value, name) for every entry of a collection and returns true, or returns false
 * (visiting nothing) when the shape is not one of these:
 *   - a Map (what SmartProxy 21.x returns);
 *   - a plain object of name -> value (what a JSON copy, e.g. SmartProxy 27.x's, holds);
 *   - an array of [name, value] entries (Array.from(map));
 *   - an array of records that carry their name under one of `nameKeys`, e.g. {ip, count} with
 *     nameKeys ['ip']: the record itself is the value.
 * Array items of neither form are passed over; an array none of whose items has either form is
 * an unrecognised shape (false), so a renamed key upstream is counted instead of looking empty.
 */
export function forEachNamed(collection, nameKeys, visit) {
  if (collection instanceof Map) {
    // forEach, not for..of: no [key, value] array allocated per entry, which matters at 100k IPs.
    collection.forEach(visit);
    return true;
  }
  if (Array.isArray(collection)) {
    let recognised = collection.length === 0;
    for (const item of collection) {
      const name = itemName(item, nameKeys);
      if (name === undefined) continue;
      recognised = true;
      visit(Array.isArray(item) ? item[1] : item, name);
    }
    return recognised;
  }
  if (isPlainObject(collection)) {
    for (const key of Object.keys(collection)) visit(collection[key], key);
    return true;
  }
  return false;
}

function itemName(item, nameKeys) {
  if (Array.isArray(item)) {
    return item.length === 2 && isName(item[0]) ? String(item[0]) : undefined;
  }
  if (item === null || typeof item !== 'object') return undefined;
  for (const key of nameKeys) {
    if (isName(item[key])) return String(item[key]);
  }
  return undefined;
}

function isName(value) {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** A non-null object that is neither an array nor a Map: a record, or a name -> value object. */
export function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Map);
}

/** The first of `keys` under which `record` holds something other than undefined/null. */
export function pick(record, keys) {
  for (const key of keys) {
    const value = record[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

/** Number of entries of a Map or plain object; undefined for anything else. */
export function entryCount(collection) {
  if (collection instanceof Map) return collection.size;
  if (isPlainObject(collection)) return Object.keys(collection).length;
  return undefined;
}

/** The value stored under key in a Map or plain object. */
export function entryValue(collection, key) {
  if (collection instanceof Map) return collection.get(key);
  if (isPlainObject(collection) && Object.hasOwn(collection, key)) return collection[key];
  return undefined;
}

// Route names and IPs are arbitrary strings: with a normal object, a route named "__proto__"
// would set the prototype instead of adding a key. A null-prototype object keeps it as data.
export function emptyNameMap() {
  return Object.create(null);
}

/**
 * A collection (see forEachNamed) of name -> count as a plain JSON object, or undefined when the
 * shape is not recognised. A value may be the number itself or a record holding it under one of
 * `countKeys`. Entries whose number is invalid are dropped.
 */
export function gaugeMap(collection, { nameKeys = [], countKeys = kCountKeys } = {}) {
  const result = emptyNameMap();
  const recognised = forEachNamed(collection, nameKeys, (value, key) => {
    const gauge = gaugeValue(countOf(value, countKeys));
    if (gauge !== undefined) result[String(key)] = gauge;
  });
  return recognised ? result : undefined;
}

/** Keys under which a record such as {ip, count} holds its count. */
export const kCountKeys = ['count', 'connections', 'activeConnections'];

/** A number, or the number a record holds under one of `countKeys`. */
export function countOf(value, countKeys = kCountKeys) {
  if (typeof value !== 'object' || value === null) return value; // the common case: a number
  return isPlainObject(value) ? pick(value, countKeys) : value;
}

/**
 * A collection of name -> {in, out} as a plain JSON object (incomplete pairs dropped), or
 * undefined when the shape is not recognised.
 */
export function pairMap(collection, { nameKeys = [] } = {}) {
  const result = emptyNameMap();
  const recognised = forEachNamed(collection, nameKeys, (value, key) => {
    const pair = throughputPair(value);
    if (pair !== undefined) result[String(key)] = pair;
  });
  return recognised ? result : undefined;
}

/**
 * A collection of name -> record as a plain JSON object, each record normalised by `normalise`
 * (which returns undefined to drop it), or undefined when the shape is not recognised.
 */
export function recordMap(collection, nameKeys, normalise) {
  const result = emptyNameMap();
  const recognised = forEachNamed(collection, nameKeys, (value, key) => {
    const record = normalise(value);
    if (record !== undefined) result[String(key)] = record;
  });
  return recognised ? result : undefined;
}

/** Number of entries forEachNamed would visit; undefined for an unrecognised shape. */
export function namedCount(collection, nameKeys = []) {
  const direct = entryCount(collection);
  if (direct !== undefined) return direct;
  let count = 0;
  return forEachNamed(collection, nameKeys, () => { count += 1; }) ? count : undefined;
}

/** A short description of a value for an error text: never the value's whole content. */
export function describeValue(value) {
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value);
  if (value instanceof Map) return 'a Map';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return 'an object';
}

/**
 * forEachNamed in slices: resolves to true after visit(value, name) was called for every entry
 * (`name` as forEachNamed gives it: a Map's key as it is, else a string), or to false for an
 * unrecognised shape. Yields through `slicer` (slices.js) every few entries; rejects with its
 * SliceAbortError when the request is aborted.
 */
export async function walkNamed(collection, nameKeys, visit, slicer) {
  let n = 0;
  if (collection instanceof Map) {
    for (const [name, value] of collection) {
      visit(value, name);
      if ((++n & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
    return true;
  }
  if (Array.isArray(collection)) {
    let recognised = collection.length === 0;
    for (let i = 0; i < collection.length; i += 1) {
      const item = collection[i];
      const name = itemName(item, nameKeys);
      if (name !== undefined) {
        recognised = true;
        visit(Array.isArray(item) ? item[1] : item, name);
      }
      if ((++n & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
    return recognised;
  }
  if (isPlainObject(collection)) {
    const keys = Object.keys(collection);
    for (let i = 0; i < keys.length; i += 1) {
      visit(collection[keys[i]], keys[i]);
      if ((++n & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
    return true;
  }
  return false;
}

const kCheckMask = kCheckEvery - 1;

/** Whether walkNamed would recognise `collection`, decided without a pass over a Map or object. */
export function isKnownCollection(collection, nameKeys) {
  if (collection instanceof Map || isPlainObject(collection)) return true;
  if (!Array.isArray(collection)) return false;
  if (collection.length === 0) return true;
  // Stops at the first named item: the first one, for any array a proxy really returns.
  return collection.some((item) => itemName(item, nameKeys) !== undefined);
}

// An array index ("0" .. "4294967294"): a JavaScript object lists such keys first, in numeric
// order, whatever the order they were added in, and so does JSON.stringify.
function isArrayIndex(key) {
  const { length } = key;
  if (length === 0 || length > 10) return false;
  for (let i = 0; i < length; i += 1) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false; // the common case: an IP stops at its first '.' or ':'
  }
  return (length === 1 || key.charCodeAt(0) !== 48) && Number(key) <= 4294967294;
}

/**
 * A large name -> value map for the snapshot, cheap to fill in slices and serialised
 * (serialise.js) exactly as JSON.stringify would write the object built by the same
 * assignments: a name set twice keeps its first position and its last value, array-index names
 * come first in numeric order.
 *
 * Filled from a source whose names cannot repeat (a plain object's keys, a Map's string keys:
 * `unique`), it is two arrays: no Map is grown. A Map of 100k entries doubles its hash table
 * at 65,536 entries, and that one set() copies every entry, a block of ~2 ms that no slicing can
 * split; arrays grow by a memory copy of pointers. When a name could repeat after all (a Map's
 * non-string key becomes a string), demote() builds the Map once and the table dedups from then.
 */
export class NameTable {
  constructor({ unique = false } = {}) {
    this.map = unique ? undefined : new Map();
    this.keys = unique ? [] : undefined;
    this.values = unique ? [] : undefined;
    this.indexKeys = [];
    this.indexPositions = []; // of a unique table's index names in `keys`
  }

  set(name, value) {
    if (this.map === undefined) {
      if (isArrayIndex(name)) {
        this.indexKeys.push(name);
        this.indexPositions.push(this.keys.length);
      }
      this.keys.push(name);
      this.values.push(value);
      return;
    }
    if (isArrayIndex(name) && !this.map.has(name)) this.indexKeys.push(name);
    this.map.set(name, value);
  }

  /** From here on a name may be set twice: the arrays become the Map (once). */
  demote() {
    if (this.map !== undefined) return;
    this.map = new Map();
    for (let i = 0; i < this.keys.length; i += 1) this.map.set(this.keys[i], this.values[i]);
    this.keys = undefined;
    this.values = undefined;
    this.indexPositions = [];
  }

  get size() {
    return this.map === undefined ? this.keys.length : this.map.size;
  }

  /** The Map of names to values (built from the arrays of a unique table). */
  asMap() {
    this.demote();
    return this.map;
  }

  /**
   * The [name, value] pairs in object order: array-index names first in numeric order, then the
   * others in insertion order (serialise.js takes this path only when there are index names).
   */
  *objectOrder() {
    const indices = [...this.indexKeys].sort((a, b) => Number(a) - Number(b));
    if (this.map !== undefined) {
      for (const name of indices) yield [name, this.map.get(name)];
      for (const [name, value] of this.map) if (!isArrayIndex(name)) yield [name, value];
      return;
    }
    // A unique table holds each index name once, at the position set() recorded.
    const positionOf = new Map(this.indexPositions.map((position) => [this.keys[position], position]));
    for (const name of indices) yield [name, this.values[positionOf.get(name)]];
    for (let i = 0; i < this.keys.length; i += 1) {
      if (!isArrayIndex(this.keys[i])) yield [this.keys[i], this.values[i]];
    }
  }
}

/**
 * gaugeMap (valueOf = gauge of a count) or pairMap (valueOf = throughputPair) in slices, into a
 * NameTable; resolves to undefined for an unrecognised shape.
 */
export async function nameTableOf(collection, nameKeys, valueOf, slicer) {
  // A plain object's keys and a Map's string keys never repeat; an array's names may.
  const table = new NameTable({ unique: collection instanceof Map || isPlainObject(collection) });
  const recognised = await walkNamed(collection, nameKeys, (value, key) => {
    const normalised = valueOf(value);
    if (normalised === undefined) return;
    if (typeof key === 'string') {
      table.set(key, normalised);
    } else {
      table.demote(); // 1 and "1" are one name
      table.set(String(key), normalised);
    }
  }, slicer);
  return recognised ? table : undefined;
}

/** The gauge of a count value (a number, or a record holding one under kCountKeys), or undefined. */
export function countGauge(value) {
  return gaugeValue(typeof value === 'number' ? value : countOf(value));
}

/** A NameTable as a null-prototype object (for buildSnapshot's plain result), in slices. */
export async function nameTableToObject(table, slicer) {
  const result = emptyNameMap();
  let n = 0;
  if (table.keys !== undefined) {
    const { keys, values } = table;
    for (let i = 0; i < keys.length; i += 1) {
      result[keys[i]] = values[i];
      if ((++n & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
    return result;
  }
  for (const [name, value] of table.map) {
    result[name] = value;
    if ((++n & kCheckMask) === 0 && slicer.due()) await slicer.yield();
  }
  return result;
}
