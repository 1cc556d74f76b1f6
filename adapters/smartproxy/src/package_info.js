// The adapter's own name and version, for the snapshot's `adapter` group: read once from
// package.json, so a release changes them in one place.
import { createRequire } from 'node:module';

const manifest = createRequire(import.meta.url)('../package.json');

/** { name, version } of this package. */
export const packageInfo = Object.freeze({ name: String(manifest.name), version: String(manifest.version) });
