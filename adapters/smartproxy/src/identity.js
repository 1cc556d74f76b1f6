// The `proxy` group of a snapshot. `instance` is new for every serveSnapshots() call so that the
// exporter sees a restart (protocol v1 rule 6: totals reset with a new instance / startTime).
import { randomBytes } from 'node:crypto';

/** Returns {name, version?, instance, startTime}; startTime defaults to now (ms since the epoch). */
export function makeIdentity({ name = 'smartproxy', version, startTime } = {}) {
  const identity = { name: String(name) };
  if (typeof version === 'string' && version !== '') identity.version = version;
  identity.instance = randomBytes(8).toString('hex');
  identity.startTime =
    typeof startTime === 'number' && Number.isFinite(startTime) && startTime >= 0 ? startTime : Date.now();
  return identity;
}
