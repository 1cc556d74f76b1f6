// The `proxy` group of a snapshot, and when it changes. Protocol rule 6: totals reset with a new
// instance / startTime. SmartProxy exposes neither, and a SmartProxy can be stopped and started
// again inside the same process (same serveSnapshots call) with its counters back at zero. So the
// adapter starts a new instance itself whenever a counter it serves goes backwards.
import { randomBytes } from 'node:crypto';

// The counters watched, as [label, read(snapshot)]: protocol counters that only grow while one
// proxy runs. (openConnectionBytes and rates fall on their own and are not watched.)
const kWatchedCounters = [
  ['connections.total', (snapshot) => snapshot.connections?.total],
  ['requests.total', (snapshot) => snapshot.requests?.total],
  ['bytes.in', (snapshot) => snapshot.bytes?.in],
  ['bytes.out', (snapshot) => snapshot.bytes?.out],
];

function randomInstanceId() {
  return randomBytes(8).toString('hex');
}

/**
 * Holds the current {name, version?, instance, startTime} and replaces it when a watched counter
 * goes backwards. Snapshots are compared in the order they were started (begin()), so a slow
 * snapshot finishing after a newer one neither triggers nor hides a restart.
 * options: name ('smartproxy'), version, startTime (ms; default now) of the first instance;
 * onRestart(message), told once per detected restart; now() and newInstanceId() for tests.
 */
export class InstanceTracker {
  constructor({
    name = 'smartproxy', version, startTime, onRestart = () => {}, now = Date.now,
    newInstanceId = randomInstanceId,
  } = {}) {
    this.name = String(name);
    this.version = typeof version === 'string' && version !== '' ? version : undefined;
    this.onRestart = onRestart;
    this.now = now;
    this.newInstanceId = newInstanceId;
    this.started = 0;
    this.lastObserved = 0;
    this.baseline = new Map(); // counter label -> last value seen under the current instance
    const validStart = typeof startTime === 'number' && Number.isFinite(startTime) && startTime >= 0;
    this.current = this.makeIdentity(validStart ? startTime : now());
  }

  /** The current proxy group. */
  get identity() {
    return this.current;
  }

  /** A token for a snapshot about to be read; pass it to observe(). */
  begin() {
    this.started += 1;
    return this.started;
  }

  /** Compares the finished snapshot's counters with the last ones and returns the proxy group. */
  observe(token, snapshot) {
    if (token < this.lastObserved) return this.current;
    this.lastObserved = token;
    const values = [];
    let wentBack;
    for (const [label, read] of kWatchedCounters) {
      const value = read(snapshot);
      if (typeof value !== 'number') continue;
      values.push([label, value]);
      const before = this.baseline.get(label);
      if (wentBack === undefined && before !== undefined && value < before) wentBack = { label, before, value };
    }
    if (wentBack !== undefined) {
      const previous = this.current.instance;
      this.current = this.makeIdentity(this.now());
      this.baseline.clear();
      this.tell(`${wentBack.label} went backwards (${wentBack.before} -> ${wentBack.value}) under ` +
        `proxy.instance ${previous}: the proxy restarted; serving proxy.instance ` +
        `${this.current.instance}, startTime ${new Date(this.current.startTime).toISOString()}`);
    }
    for (const [label, value] of values) this.baseline.set(label, value);
    return this.current;
  }

  makeIdentity(startTime) {
    const identity = { name: this.name };
    if (this.version !== undefined) identity.version = this.version;
    identity.instance = this.newInstanceId();
    identity.startTime = startTime;
    return identity;
  }

  tell(message) {
    try {
      this.onRestart(message);
    } catch {
      // A throwing log callback must not cost the snapshot.
    }
  }
}
