// Reading the proxy without ever hurting it. Any getter may return a value or a Promise (SmartProxy
// 27.x serves its metrics from an asynchronously refreshed copy; a wrapper may be async); any
// getter may throw, reject, or never settle. A ReadSession calls each getter once, turns every one
// of those outcomes into a value (never a throw, never a rejection), and holds one deadline for the
// whole snapshot. Every Promise a getter returns gets both handlers attached at once, so one that
// rejects after the deadline is still handled: an unhandled rejection would exit the proxy.

export const kDefaultDeadlineMs = 1000;

const kLate = Symbol('late');

/**
 * Starts the reads of one snapshot. deadlineMs: how long all its reads together may take, from
 * now; `signal` (an AbortSignal) ends it early (the server closing). close() ends the session's
 * one timer (call it when the snapshot is done, in a finally), so nothing outlives a snapshot.
 * Outcomes are { ok: true, value } or { ok: false, reason }.
 */
export function openReadSession({ deadlineMs = kDefaultDeadlineMs, signal } = {}) {
  return new ReadSession(deadlineMs, signal);
}

class ReadSession {
  constructor(deadlineMs, signal) {
    this.deadlineMs = deadlineMs;
    this.expired = false;
    this.failures = new Map(); // label -> reason, first reason kept
    this.deadline = new Promise((resolve) => {
      this.expire = () => {
        this.expired = true;
        resolve(kLate);
      };
    });
    // Not unref()ed: with the process otherwise idle (buildSnapshot called from a script), a
    // hanging getter must still end at the deadline rather than let the process exit mid-read.
    this.timer = setTimeout(this.expire, deadlineMs);
    this.signal = signal;
    if (signal?.aborted) this.expire();
    signal?.addEventListener('abort', this.expire, { once: true });
  }

  /**
   * Calls invoke() (synchronously, now) and resolves to { ok: true, value } or
   * { ok: false, reason }; never rejects. A failure is recorded under `label` (see skipped).
   * After the deadline the getter is not called at all.
   */
  read(label, invoke) {
    if (this.expired) {
      return Promise.resolve(this.fail(label, `was not called: the ${this.deadlineText()} had passed`));
    }
    let value;
    let thenable;
    try {
      value = invoke();
      thenable = isThenable(value);
    } catch (error) {
      return Promise.resolve(this.fail(label, `threw: ${messageOf(error)}`));
    }
    if (!thenable) return Promise.resolve({ ok: true, value });

    let settled;
    try {
      // Promise.resolve adopts foreign thenables too; both handlers are attached right here.
      settled = Promise.resolve(value).then(
        (result) => ({ ok: true, value: result }),
        (error) => ({ ok: false, reason: `rejected: ${messageOf(error)}` }));
    } catch (error) {
      return Promise.resolve(this.fail(label, `threw: ${messageOf(error)}`));
    }
    return Promise.race([settled, this.deadline]).then((outcome) => {
      if (outcome === kLate) return this.fail(label, `did not answer within the ${this.deadlineText()}`);
      return outcome.ok ? outcome : this.fail(label, outcome.reason);
    });
  }

  /** Records that `label` gave nothing usable; returns the failed outcome. */
  fail(label, reason) {
    if (!this.failures.has(label)) this.failures.set(label, reason);
    return { ok: false, reason };
  }

  /** How many distinct getters (by label) failed or gave an unusable value so far. */
  get skipped() {
    return this.failures.size;
  }

  /** Ends the deadline timer and lets every pending read resolve as late. Idempotent. */
  close() {
    clearTimeout(this.timer);
    // The signal lives as long as the server: leave no listener per snapshot on it.
    this.signal?.removeEventListener('abort', this.expire);
    this.expire();
  }

  deadlineText() {
    return `snapshot deadline (${this.deadlineMs} ms)`;
  }
}

function isThenable(value) {
  // Reading .then may itself throw (a revoked Proxy); the caller treats that as a throw.
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof value.then === 'function';
}

function messageOf(error) {
  try {
    return String(error instanceof Error ? error.message : error);
  } catch {
    return 'an unprintable error';
  }
}
