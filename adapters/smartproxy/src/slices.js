// Work on the proxy's event loop in slices. A snapshot of 100k client IPs costs the adapter
// tens of milliseconds (selection, grouping, serialisation); done in one go it would stall every
// other request of the proxy for that long. The loops over IPs ask due() every few entries and,
// once a slice has run for its budget, yield(): the event loop runs timers and I/O, then the
// next slice. The data stays what the getters returned at read time; only the work is spread.
import { SnapshotError } from './sources.js';

/** Budget of one slice, ms: well under the 2 ms a block may take at 100k IPs (issue 12). */
export const kSliceBudgetMs = 0.5;

/** How many entries a loop handles between two due() checks (performance.now() is not free). */
export const kCheckEvery = 64;

/** The work was cut short: the request was aborted (the exporter hung up, the server closes). */
export class SliceAbortError extends SnapshotError {
  constructor() {
    super('the request was aborted');
    this.name = 'SliceAbortError';
  }
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/**
 * The slices of one request. signal: an AbortSignal that ends the work at the next yield (it
 * then rejects with SliceAbortError). onBlock(ms): called with the length of every slice that
 * ends in a yield, and of the last one at finish() (for the benchmark; tests count slices).
 */
export class Slicer {
  constructor({ signal, budgetMs = kSliceBudgetMs, onBlock } = {}) {
    this.signal = signal;
    this.budgetMs = budgetMs;
    this.onBlock = onBlock;
    this.blockStart = performance.now();
    this.yields = 0;
  }

  /** True when the current slice has used its budget: the caller should yield(). */
  due() {
    return performance.now() - this.blockStart >= this.budgetMs;
  }

  /** Ends the current slice and resumes in a later turn of the event loop. */
  async yield() {
    this.onBlock?.(performance.now() - this.blockStart);
    this.yields += 1;
    await yieldToLoop();
    this.blockStart = performance.now();
    if (this.signal?.aborted) throw new SliceAbortError();
  }

  /**
   * Ends the current slice, waits for `promise` (the exporter to read what was written), and
   * starts the next slice when it settles: the wait is not part of any slice.
   */
  async waitFor(promise) {
    this.onBlock?.(performance.now() - this.blockStart);
    this.yields += 1;
    await promise;
    this.blockStart = performance.now();
    if (this.signal?.aborted) throw new SliceAbortError();
  }

  /** Reports the last slice (the one that ends without a yield). */
  finish() {
    this.onBlock?.(performance.now() - this.blockStart);
  }
}
