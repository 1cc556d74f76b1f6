// The snapshot as JSON text in slices (slices.js). JSON.stringify of a snapshot with 100k IPs
// blocks the proxy's event loop for ~100 ms in one piece; here the two large maps (NameTable,
// values.js) are written a few hundred entries per slice. Everything else is small and goes
// through JSON.stringify, so the text is byte for byte what JSON.stringify(snapshot) gives for
// the same object (tests compare both).
import { NameTable } from './values.js';
import { kCheckEvery } from './slices.js';

// Chunks of about this many UTF-16 units: each is one res.write(), small enough to encode in a
// fraction of a slice, large enough that a 5 MB body is a few dozen writes.
const kChunkLength = 64 * 1024;
const kCheckMask = kCheckEvery - 1;

// Strings that JSON.stringify writes unchanged between quotes: no quote, backslash, control
// character or surrogate (a lone one is escaped, a pair is not, so both take the slow path).
const kPlainString = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function quote(text) {
  return kPlainString.test(text) ? `"${text}"` : JSON.stringify(text);
}

// The two shapes of the large maps: a gauge, or an {in, out} pair (in that key order). Numbers
// here are finite, so String() is what JSON.stringify writes (-0 included: "0").
function valueText(value) {
  if (typeof value === 'number') return `${value}`;
  return `{"in":${value.in},"out":${value.out}}`;
}

// Whether a NameTable sits in `value` within `depth` levels: the tables are
// snapshot.connections.byIP and snapshot.throughput.byIP, two levels down.
function holdsTable(value, depth = 2) {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || depth === 0) return false;
  for (const key of Object.keys(value)) {
    const member = value[key];
    if (member instanceof NameTable || holdsTable(member, depth - 1)) return true;
  }
  return false;
}

class ChunkWriter {
  constructor() {
    this.chunks = [];
    this.current = '';
    this.bytes = 0;
  }

  append(text) {
    this.current += text;
    if (this.current.length >= kChunkLength) this.flush();
  }

  flush() {
    if (this.current === '') return;
    this.bytes += Buffer.byteLength(this.current);
    this.chunks.push(this.current);
    this.current = '';
  }
}

// Entries are collected in an array and joined a few hundred at a time: one allocation per
// piece instead of a rope of 100k concatenations.
const kEntriesPerPiece = 512;

async function writeTable(out, table, slicer) {
  out.append('{');
  const { indexKeys } = table;
  let parts = [];
  const flush = () => {
    if (parts.length === 0) return;
    out.append((out.wroteEntry ? ',' : '') + parts.join(','));
    out.wroteEntry = true;
    parts = [];
  };
  out.wroteEntry = false;
  let n = 0;
  if (indexKeys.length > 0) {
    // Rare (a client "IP" such as "12345"): array-index names first, as in an object.
    for (const [name, value] of table.objectOrder()) {
      parts.push(`${quote(name)}:${valueText(value)}`);
      if (parts.length === kEntriesPerPiece) flush();
      if ((++n & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
  } else if (table.keys !== undefined) {
    const { keys, values } = table;
    for (let i = 0; i < keys.length; i += 1) {
      parts.push(`${quote(keys[i])}:${valueText(values[i])}`);
      if (parts.length === kEntriesPerPiece) flush();
      if ((++n & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
  } else {
    for (const [name, value] of table.map) {
      parts.push(`${quote(name)}:${valueText(value)}`);
      if (parts.length === kEntriesPerPiece) flush();
      if ((++n & kCheckMask) === 0 && slicer.due()) await slicer.yield();
    }
  }
  flush();
  out.append('}');
}

async function writeValue(out, value, slicer) {
  if (value instanceof NameTable) {
    await writeTable(out, value, slicer);
    return;
  }
  if (!holdsTable(value)) {
    out.append(JSON.stringify(value));
    return;
  }
  out.append('{');
  let first = true;
  for (const key of Object.keys(value)) {
    const member = value[key];
    // JSON.stringify leaves out members it cannot write (undefined, functions).
    if (!(member instanceof NameTable) && !holdsTable(member) && JSON.stringify(member) === undefined) continue;
    out.append(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    await writeValue(out, member, slicer);
  }
  out.append('}');
}

/**
 * Resolves to { chunks, bytes }: the JSON text of `snapshot` (plain objects and NameTables) as
 * strings to be written in order, and its length in UTF-8 bytes (the Content-Length).
 */
export async function serialiseSnapshot(snapshot, slicer) {
  const out = new ChunkWriter();
  await writeValue(out, snapshot, slicer);
  out.flush();
  return { chunks: out.chunks, bytes: out.bytes };
}
