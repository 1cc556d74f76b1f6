// Recording rules: prometheusRules of the mixin.
{
  prometheusRules+:: {
    local c = $._config,
    // sum by (labels) of an expression over the selected series.
    local sumBy(labels, metric, rate=false) = {
      expr: if rate then
        'sum by (%s) (rate(%s{%s}[5m]))\n' % [labels, metric, c.smartproxySelector]
      else
        'sum by (%s) (%s{%s})\n' % [labels, metric, c.smartproxySelector],
    },
    groups+: [
      {
        name: 'smartproxy-config',
        rules: [
          {
            // The capacity of one proxy (connectionsCapacity in config.libsonnet), as a series
            // that SmartProxyConnectionsNearCapacity and graphs can compare against.
            record: 'smartproxy:connections_active:capacity',
            expr: 'vector(%d)\n' % c.connectionsCapacity,
          },
        ],
      },
      {
        // Fleet-wide views: one series per job (and per route or backend) instead of one per
        // proxy, so a fleet of hundreds of proxies is cheap to graph. The proxy reports
        // connections and throughput per route, no per-route request counter.
        name: 'smartproxy-recording',
        rules: [
          { record: 'job:smartproxy_up:sum' } + sumBy('job', 'smartproxy_up'),
          { record: 'job:smartproxy_connections_active:sum' } + sumBy('job', 'smartproxy_connections_active'),
          { record: 'job:smartproxy_connections:rate5m' } + sumBy('job', 'smartproxy_connections_total', rate=true),
          { record: 'job:smartproxy_requests:rate5m' } + sumBy('job', 'smartproxy_requests_total', rate=true),
          { record: 'job:smartproxy_received_bytes:rate5m' } + sumBy('job', 'smartproxy_received_bytes_total', rate=true),
          { record: 'job:smartproxy_sent_bytes:rate5m' } + sumBy('job', 'smartproxy_sent_bytes_total', rate=true),
          { record: 'job_route:smartproxy_route_connections_active:sum' } + sumBy('job, route', 'smartproxy_route_connections_active'),
          { record: 'job_route:smartproxy_route_throughput_bytes_per_second:sum' } + sumBy('job, route, direction', 'smartproxy_route_throughput_bytes_per_second'),
          { record: 'job_backend:smartproxy_backend_connections:rate5m' } + sumBy('job, backend', 'smartproxy_backend_connections_total', rate=true),
          { record: 'job_backend:smartproxy_backend_errors:rate5m' } + sumBy('job, backend, kind', 'smartproxy_backend_errors_total', rate=true),
        ],
      },
    ],
  },
}
