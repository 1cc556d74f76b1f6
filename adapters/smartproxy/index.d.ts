// Types for @smartproxy-exporter/adapter. The proxy shapes below are the subsets of SmartProxy's
// types that the adapter reads; every member is optional because the adapter detects each method
// at run time and leaves out the snapshot fields of the ones a proxy lacks. Every getter may
// return its value or a Promise of it (MaybePromise), and every collection may be a Map, a plain
// object, an array of [name, value] entries or an array of named records (Named<...>).

/** A getter's result: the value, or a Promise of it (held to the snapshot's deadline). */
export type MaybePromise<T> = T | PromiseLike<T>;

/**
 * A collection of name -> V in any shape the adapter accepts. Records name themselves under the
 * keys listed in the README (ip; route, name; backend, name, key, address; protocol, name;
 * domain, name, host).
 */
export type Named<V, R = V> =
  | Map<string, V>
  | Record<string, V>
  | Array<[string, V]>
  | Array<R>;

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

/**
 * One backend's record (SmartProxy 27.x, our best reading; see README). camelCase as here, or the
 * snake_case of the Rust data plane (active_connections, connect_errors, avg_connect_time_ms, ...).
 */
export interface BackendRecordLike {
  backend?: string;
  protocol?: string;
  active?: number;
  activeConnections?: number;
  total?: number;
  totalConnections?: number;
  connectErrors?: number;
  handshakeErrors?: number;
  requestErrors?: number;
  connectTimeMs?: number;
  avgConnectTimeMs?: number;
  poolHits?: number;
  poolMisses?: number;
}

export interface ProtocolRecordLike {
  protocol?: string;
  active?: number;
  total?: number;
}

export interface DomainRecordLike {
  domain?: string;
  perSecond?: number;
  /** Also accepted: lastMinute, requestsPerMinute, requestsLastMinute, per_minute, last_minute. */
  perMinute?: number;
  lastMinute?: number;
}

/**
 * What `proxy.getMetrics()` returns (IMetrics, SmartProxy >= 19.6.7; 21.1.3 synchronous with
 * Maps; 27.x with the backends/protocols/udp groups and requests.byDomain, names unverified).
 */
export interface MetricsLike {
  connections?: {
    active?(): MaybePromise<number>;
    total?(): MaybePromise<number>;
    byRoute?(): MaybePromise<Named<number, { route: string; count: number }>>;
    byIP?(): MaybePromise<Named<number, { ip: string; count: number }>>;
    topIPs?(limit?: number): MaybePromise<Array<{ ip: string; count: number }>>;
  };
  throughput?: {
    instant?(): MaybePromise<ThroughputData>;
    recent?(): MaybePromise<ThroughputData>;
    average?(): MaybePromise<ThroughputData>;
    byRoute?(windowSeconds?: number): MaybePromise<Named<ThroughputData, ThroughputData & { route: string }>>;
    byIP?(windowSeconds?: number): MaybePromise<Named<ThroughputData, ThroughputData & { ip: string }>>;
  };
  requests?: {
    perSecond?(): MaybePromise<number>;
    perMinute?(): MaybePromise<number>;
    total?(): MaybePromise<number>;
    /** 27.8.0: per-domain HTTP request rates (per second, last minute). */
    byDomain?(): MaybePromise<Named<DomainRecordLike | number, DomainRecordLike>>;
  };
  totals?: {
    bytesIn?(): MaybePromise<number>;
    bytesOut?(): MaybePromise<number>;
    connections?(): MaybePromise<number>;
  };
  percentiles?: {
    connectionDuration?(): MaybePromise<Quantiles>;
    bytesTransferred?(): MaybePromise<{ in: Quantiles; out: Quantiles }>;
  };
  /** 27.x (25.10.0 per-backend metrics): byBackend() is tried first, then list(). */
  backends?: {
    byBackend?(): MaybePromise<Named<BackendRecordLike, BackendRecordLike>>;
    list?(): MaybePromise<Named<BackendRecordLike, BackendRecordLike>>;
  };
  /** 27.x: frontend/backend protocol active and total counters. */
  protocols?: {
    frontend?(): MaybePromise<Named<ProtocolRecordLike, ProtocolRecordLike>>;
    backend?(): MaybePromise<Named<ProtocolRecordLike, ProtocolRecordLike>>;
  };
  /** 27.x: active_udp_sessions, total_udp_sessions; datagram counts are a guess. */
  udp?: {
    activeSessions?(): MaybePromise<number>;
    totalSessions?(): MaybePromise<number>;
    datagramsIn?(): MaybePromise<number>;
    datagramsOut?(): MaybePromise<number>;
  };
}

/** What `proxy.getStats()` returns (IProxyStats, SmartProxy <= 19.6.2). */
export interface ProxyStatsLike {
  getActiveConnections?(): MaybePromise<number>;
  getTotalConnections?(): MaybePromise<number>;
  getConnectionsByRoute?(): MaybePromise<Named<number, { route: string; count: number }>>;
  getConnectionsByIP?(): MaybePromise<Named<number, { ip: string; count: number }>>;
  /** Requests of the last 60 s divided by 60: served as requests.perMinute = value * 60. */
  getRequestsPerSecond?(): MaybePromise<number>;
  /** Bytes moved so far by the connections open now (falls when one closes): openConnectionBytes. */
  getThroughput?(): MaybePromise<{ bytesIn: number; bytesOut: number }>;
  getTopIPs?(limit?: number): MaybePromise<Array<{ ip: string; count?: number; connections?: number }>>;
}

/** A SmartProxy instance of either API generation. */
export type SmartProxyLike =
  | { getMetrics(): MaybePromise<MetricsLike> }
  | { getStats(): MaybePromise<ProxyStatsLike> };

/** The groups whose reading `read` can override. */
export type ReadGroup =
  | 'connections' | 'requests' | 'byDomain' | 'bytes' | 'openConnectionBytes' | 'throughput'
  | 'percentiles' | 'backends' | 'protocols' | 'udp';

export interface ReadContext {
  /** The proxy passed to serveSnapshots. */
  proxy: SmartProxyLike;
  api: 'IMetrics' | 'IProxyStats';
  /** ?ips=N of this request (undefined: every IP); the adapter applies it to what you return. */
  ipLimit?: number;
  /**
   * ?ipv4Prefix=&ipv6Prefix= of this request, when it asks for networks. Informational: return
   * addresses as usual, the adapter groups them.
   */
  ipGrouping?: IpGrouping;
}

/** Prefix lengths of anonymisation at the source (docs/snapshot-protocol.md, "IP grouping"). */
export interface IpGrouping {
  /** 0..32, default 24. */
  ipv4Prefix: number;
  /** 0..128, default 64. */
  ipv6Prefix: number;
}

/**
 * Reads one group instead of the adapter's default getters. Receives what getMetrics() (or
 * getStats()) resolved to. Returns the group in the snapshot's shape (collections in any accepted
 * shape), a Promise of it, or undefined to leave the group out. Held to the same deadline; a
 * throw, rejection or unrecognised value leaves the group out and counts in adapter.skipped
 * (for `connections`: a 500 naming read.connections()).
 */
export type ReadOverride = (metrics: any, context: ReadContext) => unknown;

export interface ServeSnapshotsOptions {
  /** Socket path. Default '/run/smartproxy/metrics.sock'. Its directory must exist. */
  path?: string;
  /** Permission bits of the socket file, applied before the path appears. Default 0o660. */
  mode?: number;
  /** Group of the socket file: a gid, or a name from /etc/group. Default: the process's group. */
  group?: number | string;
  /** Reported as proxy.version (for example your installed SmartProxy's version). */
  version?: string;
  /**
   * Reported as proxy.startTime of the first instance, ms since the epoch. Default: when
   * serveSnapshots was called. A counter going backwards starts a new instance with startTime now.
   */
  startTime?: number;
  /**
   * How long the reads of one snapshot may take together, ms. Default 1000 (below the exporter's
   * default 2 s --proxy.timeout, so its 500 names the late getter instead of timing out).
   */
  deadlineMs?: number;
  /** Overrides how a group is read; see ReadOverride. Unknown group names are refused. */
  read?: Partial<Record<ReadGroup, ReadOverride>>;
  /**
   * With ?ips=N and a proxy that has topIPs()/getTopIPs(), also call byIP() to fill
   * connections.distinctIPs. Off by default: it makes the proxy build its full IP map.
   */
  countDistinctIPs?: boolean;
  /** Receives server errors after startup. Default: one line on stderr. Must not throw. */
  onError?: (error: Error) => void;
  /** Told once per detected proxy restart (a counter went backwards). Default: console.warn. */
  onWarning?: (message: string) => void;
}

export interface SnapshotHandle {
  /** The socket path being served. */
  readonly path: string;
  /**
   * The current proxy.instance: random, new for every serveSnapshots call and whenever a counter
   * (connections.total, requests.total, bytes.in/out) goes backwards.
   */
  readonly instance: string;
  /** Stops serving and removes the socket file if it is still ours. Idempotent. */
  close(): Promise<void>;
}

/** Starts serving GET /v1/snapshot on a Unix socket; see ServeSnapshotsOptions. */
export function serveSnapshots(proxy: SmartProxyLike, options?: ServeSnapshotsOptions): Promise<SnapshotHandle>;

export const defaultSocketPath: string;
/** 1000. */
export const defaultDeadlineMs: number;
export const kReadGroups: readonly ReadGroup[];

export interface InOut {
  in: number;
  out: number;
}

export interface BackendStats {
  protocol?: string;
  active?: number;
  total?: number;
  connectErrors?: number;
  handshakeErrors?: number;
  requestErrors?: number;
  connectTimeMs?: number;
  poolHits?: number;
  poolMisses?: number;
}

export interface ProtocolConnections {
  active?: number;
  total?: number;
}

/** Protocol v1 snapshot, 1.1 groups included (docs/snapshot-protocol.md). */
export interface Snapshot {
  schemaVersion: 1;
  timestamp: number;
  proxy?: { name?: string; version?: string; instance?: string; startTime?: number };
  /** Who made the snapshot; skipped = getters (or overrides) whose field was left out this time. */
  adapter: { name: string; version: string; api: 'IMetrics' | 'IProxyStats'; skipped: number };
  connections: {
    active: number;
    total: number;
    byRoute?: Record<string, number>;
    /** Client IP (or, grouped, network such as "203.0.113.0/24", or "invalid") -> active connections. */
    byIP?: Record<string, number>;
    /** Client addresses before any ?ips= cut (grouped or not). */
    distinctIPs?: number;
    /** Present when the request asked for networks: the grouping this document applies. */
    ipGrouping?: IpGrouping;
    /** Grouped: networks before the ?ips= cut ("invalid" counts as one). */
    distinctNetworks?: number;
  };
  requests?: {
    total?: number;
    perSecond?: number;
    perMinute?: number;
    byDomain?: Record<string, { perSecond?: number; perMinute?: number }>;
  };
  bytes?: InOut;
  /** IProxyStats getThroughput(): bytes of the connections open now, a gauge. */
  openConnectionBytes?: InOut;
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
  backends?: Record<string, BackendStats>;
  protocols?: { frontend?: Record<string, ProtocolConnections>; backend?: Record<string, ProtocolConnections> };
  udp?: { activeSessions?: number; totalSessions?: number; datagramsIn?: number; datagramsOut?: number };
}

export interface BuildSnapshotOptions {
  /** ?ips=N; undefined returns every IP. */
  ipLimit?: number;
  /** Sum connections.byIP and throughput.byIP per network; a missing member takes its default. */
  ipGrouping?: Partial<IpGrouping>;
  /** The proxy group, or a function of the finished snapshot that returns it. */
  identity?: Snapshot['proxy'] | ((snapshot: Omit<Snapshot, 'schemaVersion' | 'timestamp' | 'adapter'>) => Snapshot['proxy']);
  /** ms since the epoch; default Date.now(). */
  now?: number;
  countDistinctIPs?: boolean;
  /** Default 1000. */
  deadlineMs?: number;
  read?: Partial<Record<ReadGroup, ReadOverride>>;
  /** Ends pending reads early, as if the deadline had passed, and stops the work after them. */
  signal?: AbortSignal;
}

/**
 * Builds one snapshot. The getters are read once; the per-IP work after them runs in slices that
 * yield to the event loop (about 0.5 ms of work each). Never calls a getter twice, never rejects for an optional field (it is left
 * out and counted in adapter.skipped); rejects with ProxyGetterError (a required getter threw,
 * rejected or missed the deadline) or SnapshotError (a required field is missing or invalid).
 */
export function buildSnapshot(proxy: SmartProxyLike, options?: BuildSnapshotOptions): Promise<Snapshot>;

/** Which API generation a proxy offers, by feature detection. */
export function detectApi(proxy: unknown): 'metrics' | 'stats' | undefined;

/** A required field (connections.active / total, getMetrics()/getStats()) is missing or invalid. */
export class SnapshotError extends Error {}
/** A required getter threw, rejected or missed the deadline; the message names the getter. */
export class ProxyGetterError extends SnapshotError {}
