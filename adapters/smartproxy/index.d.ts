// Types for @smartproxy-exporter/adapter. The proxy shapes below are the subsets of SmartProxy's
// published types that the adapter reads; every member is optional because the adapter detects
// each method at run time and leaves out the snapshot fields of the ones a proxy lacks.

/** IThroughputData of SmartProxy >= 19.6.7: bytes per second. */
export interface ThroughputData {
  in: number;
  out: number;
}

export interface Quantiles {
  p50?: number;
  p95?: number;
  p99?: number;
}

/** What `proxy.getMetrics()` returns (IMetrics, SmartProxy >= 19.6.7). */
export interface MetricsLike {
  connections?: {
    active?(): number;
    total?(): number;
    byRoute?(): Map<string, number>;
    byIP?(): Map<string, number>;
    topIPs?(limit?: number): Array<{ ip: string; count: number }>;
  };
  throughput?: {
    instant?(): ThroughputData;
    recent?(): ThroughputData;
    average?(): ThroughputData;
    byRoute?(windowSeconds?: number): Map<string, ThroughputData>;
    byIP?(windowSeconds?: number): Map<string, ThroughputData>;
  };
  requests?: {
    perSecond?(): number;
    perMinute?(): number;
    total?(): number;
  };
  totals?: {
    bytesIn?(): number;
    bytesOut?(): number;
    connections?(): number;
  };
  percentiles?: {
    connectionDuration?(): Quantiles;
    bytesTransferred?(): { in: Quantiles; out: Quantiles };
  };
}

/** What `proxy.getStats()` returns (IProxyStats, SmartProxy <= 19.6.2). */
export interface ProxyStatsLike {
  getActiveConnections?(): number;
  getTotalConnections?(): number;
  getConnectionsByRoute?(): Map<string, number>;
  getConnectionsByIP?(): Map<string, number>;
  getRequestsPerSecond?(): number;
  /** Cumulative bytes since start. */
  getThroughput?(): { bytesIn: number; bytesOut: number };
  getTopIPs?(limit?: number): Array<{ ip: string; count: number }>;
}

/** A SmartProxy instance of either API generation. */
export type SmartProxyLike =
  | { getMetrics(): MetricsLike }
  | { getStats(): ProxyStatsLike };

export interface ServeSnapshotsOptions {
  /** Socket path. Default '/run/smartproxy/metrics.sock'. Its directory must exist. */
  path?: string;
  /** Permission bits of the socket file, applied before the path appears. Default 0o660. */
  mode?: number;
  /** Group of the socket file: a gid, or a name from /etc/group. Default: the process's group. */
  group?: number | string;
  /** Reported as proxy.version (for example your installed SmartProxy's version). */
  version?: string;
  /** Reported as proxy.startTime, ms since the epoch. Default: when serveSnapshots was called. */
  startTime?: number;
  /**
   * With ?ips=N and a proxy that has topIPs()/getTopIPs(), also call byIP() to fill
   * connections.distinctIPs. Off by default: it makes the proxy build its full IP map.
   */
  countDistinctIPs?: boolean;
  /** Receives server errors after startup. Default: one line on stderr. Must not throw. */
  onError?: (error: Error) => void;
}

export interface SnapshotHandle {
  /** The socket path being served. */
  readonly path: string;
  /** proxy.instance of the snapshots: random, new for every serveSnapshots call. */
  readonly instance: string;
  /** Stops serving and removes the socket file if it is still ours. Idempotent. */
  close(): Promise<void>;
}

/** Starts serving GET /v1/snapshot on a Unix socket; see ServeSnapshotsOptions. */
export function serveSnapshots(proxy: SmartProxyLike, options?: ServeSnapshotsOptions): Promise<SnapshotHandle>;

export const defaultSocketPath: string;

export interface InOut {
  in: number;
  out: number;
}

/** Protocol v1 snapshot (docs/snapshot-protocol.md). */
export interface Snapshot {
  schemaVersion: 1;
  timestamp: number;
  proxy?: { name?: string; version?: string; instance?: string; startTime?: number };
  connections: {
    active: number;
    total: number;
    byRoute?: Record<string, number>;
    byIP?: Record<string, number>;
    distinctIPs?: number;
  };
  requests?: { total?: number; perSecond?: number; perMinute?: number };
  bytes?: InOut;
  throughput?: {
    instant?: InOut;
    recent?: InOut;
    average?: InOut;
    byRoute?: Record<string, InOut>;
    byIP?: Record<string, InOut>;
  };
  percentiles?: {
    connectionDurationMs?: Quantiles;
    bytesTransferred?: { in?: Quantiles; out?: Quantiles };
  };
}

export interface BuildSnapshotOptions {
  /** ?ips=N; undefined returns every IP. */
  ipLimit?: number;
  identity?: Snapshot['proxy'];
  /** ms since the epoch; default Date.now(). */
  now?: number;
  countDistinctIPs?: boolean;
}

/** Builds one snapshot synchronously. Throws ProxyGetterError or SnapshotError. */
export function buildSnapshot(proxy: SmartProxyLike, options?: BuildSnapshotOptions): Snapshot;

/** Which API generation a proxy offers, by feature detection. */
export function detectApi(proxy: unknown): 'metrics' | 'stats' | undefined;

/** A proxy getter threw; the message names the getter. */
export class ProxyGetterError extends Error {}
/** A required field (connections.active / total) is missing or invalid. */
export class SnapshotError extends Error {}
