// The mixin's settings. Override any of them in your own jsonnet:
//   (import 'mixin.libsonnet') + { _config+:: { smartproxySelector: 'job="edge-proxy"' } }
// and generate with deploy/mixin/generate.sh --mixin YOUR_FILE --out DIR (see README.md).
{
  _config+:: {
    // Label matchers that select the exporter's series: the scrape job of prometheus.yml, or the
    // job label of the kustomize base's ServiceMonitor/PodMonitor (jobLabel app.kubernetes.io/name).
    // Every alert and recording rule, every panel query and the dashboard's $job variable use it.
    smartproxySelector: 'job="smartproxy"',

    // Each alert's annotation runbook_url: this pattern with %s replaced by the alert's name in
    // lower case, the GitHub anchor of its section in docs/runbook.md. Point it at your fork or
    // your internal copy of the runbook.
    runbookURLPattern: 'https://github.com/smartproxy-exporter/smartproxy_exporter/blob/main/docs/runbook.md#%s',

    // SmartProxyExporterDown: Prometheus cannot scrape the exporter (up == 0) for this long.
    exporterDownFor: '2m',
    // SmartProxyUnreachable: the exporter fetched no snapshot (smartproxy_up == 0) for this long.
    proxyUnreachableFor: '5m',
    // SmartProxySnapshotStale: the snapshot is older than this many seconds, for this long.
    snapshotStaleSeconds: 30,
    snapshotStaleFor: '5m',
    // SmartProxySnapshotErrors: more than this many failed fetches of one reason in the window,
    // for this long.
    snapshotErrorsThreshold: 3,
    snapshotErrorsWindow: '10m',
    snapshotErrorsFor: '5m',
    // Capacity of one proxy in active connections: the recording rule
    // smartproxy:connections_active:capacity. Set it to what your proxies are sized for
    // (maxConnections or a load-test result). SmartProxyConnectionsNearCapacity fires above
    // connectionsNearCapacityPercent of it for connectionsNearCapacityFor; the dashboard's
    // "Active connections" panel draws the same line.
    connectionsCapacity: 10000,
    connectionsNearCapacityPercent: 90,
    connectionsNearCapacityFor: '10m',
    // SmartProxyBackendErrors: one backend's errors (all kinds) above this percentage of its new
    // connections, for this long; backends with fewer new connections per second than
    // backendErrorsMinConnectionsPerSecond are left out (a handful of errors is a large ratio there).
    backendErrorsPercent: 5,
    backendErrorsMinConnectionsPerSecond: 1,
    backendErrorsFor: '10m',

    // The dashboard (grafana/dashboards/smartproxy.json).
    dashboardUid: 'smartproxy-exporter',
    dashboardTitle: 'SmartProxy',
    dashboardTags: ['smartproxy', 'proxy', 'prometheus'],
    dashboardPeriod: 'now-1h',
    dashboardTimezone: '',
    dashboardRefresh: '30s',
  },
}
