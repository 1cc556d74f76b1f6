// Number hygiene for protocol v1 (docs/snapshot-protocol.md, "Rules" 1 and 3): every number is
// finite and non-negative, counters are integers no larger than 2^53, an {in, out} pair needs both
// members. A value that breaks a rule is dropped (undefined), never replaced by zero: a made-up
// zero would be exported as truth, an absent field is simply not exported.

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
 * Calls visit(value, key) for every entry of a Map or a plain object. SmartProxy returns Maps;
 * plain objects are accepted so a wrapper that already converted them still works.
 */
export function forEachEntry(collection, visit) {
  if (collection instanceof Map) {
    // forEach, not for..of: no [key, value] array allocated per entry, which matters at 100k IPs.
    collection.forEach(visit);
  } else if (collection !== null && typeof collection === 'object') {
    for (const key of Object.keys(collection)) visit(collection[key], key);
  }
}

/** Number of entries of a Map or plain object; undefined for anything else. */
export function entryCount(collection) {
  if (collection instanceof Map) return collection.size;
  if (collection !== null && typeof collection === 'object') return Object.keys(collection).length;
  return undefined;
}

/** The value stored under key in a Map or plain object. */
export function entryValue(collection, key) {
  if (collection instanceof Map) return collection.get(key);
  if (collection !== null && typeof collection === 'object' && Object.hasOwn(collection, key)) {
    return collection[key];
  }
  return undefined;
}

// Route names and IPs are arbitrary strings: with a normal object, a route named "__proto__"
// would set the prototype instead of adding a key. A null-prototype object keeps it as data.
export function emptyNameMap() {
  return Object.create(null);
}

/** Map/object of name -> number as a plain JSON object; invalid numbers are dropped. */
export function gaugeMap(collection) {
  const result = emptyNameMap();
  forEachEntry(collection, (value, key) => {
    const gauge = gaugeValue(value);
    if (gauge !== undefined) result[String(key)] = gauge;
  });
  return result;
}

/** Map/object of name -> {in, out} as a plain JSON object; incomplete pairs are dropped. */
export function pairMap(collection) {
  const result = emptyNameMap();
  forEachEntry(collection, (value, key) => {
    const pair = throughputPair(value);
    if (pair !== undefined) result[String(key)] = pair;
  });
  return result;
}

/** True when a Map or plain object was given (so an empty result is real, not invented). */
export function isCollection(value) {
  return value instanceof Map || (value !== null && typeof value === 'object' && !Array.isArray(value));
}
