// Alerts: prometheusAlerts of the mixin. Each summary is static (a grouped notification keeps
// its headline); the per-instance detail is in the description. runbook_url is added by
// lib/runbook-links.libsonnet. Tests: deploy/prometheus/rules.test.yml.
{
  prometheusAlerts+:: {
    local c = $._config,
    local sel = c.smartproxySelector,
    groups+: [
      {
        name: 'smartproxy-alerts',
        rules: [
          {
            alert: 'SmartProxyExporterDown',
            expr: 'up{%s} == 0\n' % sel,
            'for': c.exporterDownFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'smartproxy_exporter cannot be scraped.',
              description: 'Prometheus has failed to scrape the exporter at {{ $labels.instance }} ' +
                           '(job {{ $labels.job }}) for %s. Nothing about this proxy is being recorded.'
                           % c.exporterDownFor,
            },
          },
          {
            alert: 'SmartProxyUnreachable',
            expr: 'smartproxy_up{%s} == 0\n' % sel,
            'for': c.proxyUnreachableFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'SmartProxy does not answer snapshots.',
              description: 'The exporter at {{ $labels.instance }} is up but has not fetched a valid ' +
                           'snapshot from the proxy for %s (smartproxy_up == 0). ' % c.proxyUnreachableFor +
                           'See smartproxy_exporter_snapshot_errors_total for the reason.',
            },
          },
          {
            alert: 'SmartProxySnapshotStale',
            expr: 'smartproxy_snapshot_age_seconds{%s} > %d\n' % [sel, c.snapshotStaleSeconds],
            'for': c.snapshotStaleFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'SmartProxy serves stale snapshots.',
              description: 'The snapshot of {{ $labels.instance }} is {{ $value | humanizeDuration }} old: ' +
                           "its timestamp has lagged the exporter's clock by more than %d s for %s. "
                           % [c.snapshotStaleSeconds, c.snapshotStaleFor] +
                           'The proxy answers but its metrics are frozen, or the clocks differ.',
            },
          },
          {
            alert: 'SmartProxySnapshotErrors',
            expr: |||
              sum by (job, instance, reason) (increase(smartproxy_exporter_snapshot_errors_total{%s}[%s])) > %d
            ||| % [sel, c.snapshotErrorsWindow, c.snapshotErrorsThreshold],
            'for': c.snapshotErrorsFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Snapshot fetches from SmartProxy keep failing.',
              description: 'More than %d snapshot fetches from {{ $labels.instance }} failed ' % c.snapshotErrorsThreshold +
                           'with reason {{ $labels.reason }} in the last %s ({{ $value | humanize }}). ' % c.snapshotErrorsWindow +
                           'Scrapes of that proxy show smartproxy_up 0 and its metrics have gaps, ' +
                           'even if it is not down for long.',
            },
          },
          {
            alert: 'SmartProxyConnectionsNearCapacity',
            expr: |||
              smartproxy_connections_active{%s} > on() group_left() (%g * smartproxy:connections_active:capacity)
            ||| % [sel, c.connectionsNearCapacityPercent / 100],
            'for': c.connectionsNearCapacityFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'SmartProxy is close to its connection capacity.',
              description: '{{ $labels.instance }} has held {{ $value }} active connections, above ' +
                           '%d%% of smartproxy:connections_active:capacity ' % c.connectionsNearCapacityPercent +
                           '(connectionsCapacity in deploy/mixin/config.libsonnet), for %s.'
                           % c.connectionsNearCapacityFor,
            },
          },
          {
            // Errors of every kind (connect, handshake, request) against the backend's new
            // connections, per proxy and backend; quiet backends are left out.
            local connections =
              'sum by (job, instance, backend) (rate(smartproxy_backend_connections_total{%s}[5m]))' % sel,
            alert: 'SmartProxyBackendErrors',
            expr: |||
              (
                sum by (job, instance, backend) (rate(smartproxy_backend_errors_total{%(sel)s}[5m]))
              /
                %(connections)s
              ) > %(ratio)g
              and
              %(connections)s >= %(min)g
            ||| % {
              sel: sel,
              connections: connections,
              ratio: c.backendErrorsPercent / 100,
              min: c.backendErrorsMinConnectionsPerSecond,
            },
            'for': c.backendErrorsFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'A SmartProxy backend fails many of its connections.',
              description: 'Backend {{ $labels.backend }} of {{ $labels.instance }} fails ' +
                           '{{ $value | humanizePercentage }} of its new connections: connect, ' +
                           'handshake and request errors have been above %g%% of them for %s '
                           % [c.backendErrorsPercent, c.backendErrorsFor] +
                           '(at least %g new connection per second). ' % c.backendErrorsMinConnectionsPerSecond +
                           'smartproxy_backend_errors_total{kind} says which kind.',
            },
          },
        ],
      },
    ],
  },
}
