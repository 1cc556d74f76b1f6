// The dashboard: grafanaDashboards['smartproxy.json'] of the mixin, written to
// grafana/dashboards/smartproxy.json by deploy/mixin/generate.sh. Every query selects
// _config.smartproxySelector and the $job and $instance variables (Grafana's dashboard-linter
// rules, checked by grafana/test/dashboard_lint.py); the $job variable lists the jobs of the
// selector. Uid, title, tags, time range, timezone and refresh come from config.libsonnet.
{
  grafanaDashboards+:: {
    local c = $._config,
    // Label matchers of every panel query.
    local s = { matchers: '%s, job=~"$job", instance=~"$instance"' % c.smartproxySelector },

    'smartproxy.json': {
      uid: c.dashboardUid,
      title: c.dashboardTitle,
      description: 'SmartProxy via smartproxy_exporter: health, connections, requests, throughput, top clients, connection duration, backends, protocols and UDP, domains. Metrics: docs/metrics.md.',
      tags: c.dashboardTags,
      schemaVersion: 39,
      version: 1,
      editable: false,
      graphTooltip: 1,
      timezone: c.dashboardTimezone,
      time: {
        from: c.dashboardPeriod,
        to: 'now',
      },
      refresh: c.dashboardRefresh,
      fiscalYearStartMonth: 0,
      liveNow: false,
      links: [],
      annotations: {
        list: [
          {
            builtIn: 1,
            datasource: {
              type: 'grafana',
              uid: '-- Grafana --',
            },
            enable: true,
            hide: true,
            iconColor: 'rgba(0, 211, 255, 1)',
            name: 'Annotations & Alerts',
            type: 'dashboard',
          },
        ],
      },
      templating: {
        list: [
          {
            name: 'datasource',
            label: 'Data source',
            type: 'datasource',
            query: 'prometheus',
            current: {},
            hide: 0,
            options: [],
            refresh: 1,
            regex: '',
            includeAll: false,
            multi: false,
          },
          {
            name: 'job',
            label: 'Job',
            type: 'query',
            datasource: {
              type: 'prometheus',
              uid: '${datasource}',
            },
            query: {
              query: 'label_values(smartproxy_up{%(smartproxySelector)s}, job)' % c,
              refId: 'job-query',
              qryType: 1,
            },
            definition: 'label_values(smartproxy_up{%(smartproxySelector)s}, job)' % c,
            refresh: 2,
            sort: 1,
            multi: true,
            includeAll: true,
            allValue: '.+',
            current: {},
            options: [],
            hide: 0,
            regex: '',
          },
          {
            name: 'instance',
            label: 'Instance',
            type: 'query',
            datasource: {
              type: 'prometheus',
              uid: '${datasource}',
            },
            query: {
              query: 'label_values(smartproxy_up{%(smartproxySelector)s, job=~"$job"}, instance)' % c,
              refId: 'instance-query',
              qryType: 1,
            },
            definition: 'label_values(smartproxy_up{%(smartproxySelector)s, job=~"$job"}, instance)' % c,
            refresh: 2,
            sort: 1,
            multi: true,
            includeAll: true,
            allValue: '.+',
            current: {},
            options: [],
            hide: 0,
            regex: '',
          },
          {
            name: 'route',
            label: 'Route',
            type: 'query',
            datasource: {
              type: 'prometheus',
              uid: '${datasource}',
            },
            query: {
              query: 'label_values(smartproxy_route_connections_active{%(matchers)s}, route)' % s,
              refId: 'route-query',
              qryType: 1,
            },
            definition: 'label_values(smartproxy_route_connections_active{%(matchers)s}, route)' % s,
            refresh: 2,
            sort: 1,
            multi: true,
            includeAll: true,
            allValue: '.+',
            current: {},
            options: [],
            hide: 0,
            regex: '',
          },
          {
            name: 'backend',
            label: 'Backend',
            type: 'query',
            datasource: {
              type: 'prometheus',
              uid: '${datasource}',
            },
            query: {
              query: 'label_values(smartproxy_backend_connections_active{%(matchers)s}, backend)' % s,
              refId: 'backend-query',
              qryType: 1,
            },
            definition: 'label_values(smartproxy_backend_connections_active{%(matchers)s}, backend)' % s,
            refresh: 2,
            sort: 1,
            multi: true,
            includeAll: true,
            allValue: '.+',
            current: {},
            options: [],
            hide: 0,
            regex: '',
          },
        ],
      },
      panels: [
        {
          type: 'row',
          id: 1,
          title: 'Proxy and exporter health',
          collapsed: false,
          gridPos: {
            h: 1,
            w: 24,
            x: 0,
            y: 0,
          },
          panels: [],
        },
        {
          type: 'stat',
          id: 2,
          title: 'Proxy up',
          description: "Is each proxy answering snapshots? smartproxy_up is 1 when this scrape fetched and parsed a snapshot from the proxy's socket, 0 when the proxy is unreachable, hung or sent garbage (see Snapshot errors). Alert: SmartProxyUnreachable.",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 5,
            w: 4,
            x: 0,
            y: 1,
          },
          fieldConfig: {
            defaults: {
              unit: 'none',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'red',
                    value: null,
                  },
                  {
                    color: 'green',
                    value: 1,
                  },
                ],
              },
              mappings: [
                {
                  type: 'value',
                  options: {
                    '0': {
                      text: 'DOWN',
                      color: 'red',
                      index: 0,
                    },
                    '1': {
                      text: 'UP',
                      color: 'green',
                      index: 1,
                    },
                  },
                },
              ],
              color: {
                mode: 'thresholds',
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            colorMode: 'background',
            graphMode: 'none',
            justifyMode: 'auto',
            orientation: 'auto',
            textMode: 'value_and_name',
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'smartproxy_up{%(matchers)s}' % s,
              legendFormat: '{{instance}}',
              range: false,
              instant: true,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'stat',
          id: 3,
          title: 'Exporter target up',
          description: "Can Prometheus scrape each exporter? up is Prometheus' own scrape result; 0 means the sidecar is down or unreachable and nothing about that proxy is recorded. Alert: SmartProxyExporterDown.",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 5,
            w: 4,
            x: 4,
            y: 1,
          },
          fieldConfig: {
            defaults: {
              unit: 'none',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'red',
                    value: null,
                  },
                  {
                    color: 'green',
                    value: 1,
                  },
                ],
              },
              mappings: [
                {
                  type: 'value',
                  options: {
                    '0': {
                      text: 'DOWN',
                      color: 'red',
                      index: 0,
                    },
                    '1': {
                      text: 'UP',
                      color: 'green',
                      index: 1,
                    },
                  },
                },
              ],
              color: {
                mode: 'thresholds',
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            colorMode: 'background',
            graphMode: 'none',
            justifyMode: 'auto',
            orientation: 'auto',
            textMode: 'value_and_name',
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'up{%(matchers)s}' % s,
              legendFormat: '{{instance}}',
              range: false,
              instant: true,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'stat',
          id: 4,
          title: 'Proxy uptime',
          description: 'How long has each proxy process been running? A reset to near zero is a proxy restart (its counters restart too).',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 5,
            w: 4,
            x: 8,
            y: 1,
          },
          fieldConfig: {
            defaults: {
              unit: 's',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'orange',
                    value: null,
                  },
                  {
                    color: 'green',
                    value: 600,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'thresholds',
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            colorMode: 'background',
            graphMode: 'none',
            justifyMode: 'auto',
            orientation: 'auto',
            textMode: 'value_and_name',
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'time() - smartproxy_proxy_start_time_seconds{%(matchers)s}' % s,
              legendFormat: '{{instance}}',
              range: false,
              instant: true,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'stat',
          id: 5,
          title: 'Exporter memory (RSS)',
          description: "Resident memory of each exporter, to compare with the container's memory limit (128 MiB in deploy/kubernetes). Grows with the snapshot size (client IPs fetched).",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 5,
            w: 4,
            x: 12,
            y: 1,
          },
          fieldConfig: {
            defaults: {
              unit: 'bytes',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'orange',
                    value: 100663296,
                  },
                  {
                    color: 'red',
                    value: 125829120,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'thresholds',
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            colorMode: 'background',
            graphMode: 'none',
            justifyMode: 'auto',
            orientation: 'auto',
            textMode: 'value_and_name',
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'process_resident_memory_bytes{%(matchers)s}' % s,
              legendFormat: '{{instance}}',
              range: false,
              instant: true,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'stat',
          id: 28,
          title: 'Adapter',
          description: "Which adapter wrote each proxy's snapshots, and which SmartProxy API it read: IMetrics (getMetrics(), SmartProxy 19.6.7 and later) or IProxyStats (getStats(), 19.6.2 and earlier, which has no byte counters: see smartproxy_open_connections_*_bytes). From smartproxy_adapter_info{api, version}.",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 5,
            w: 4,
            x: 16,
            y: 1,
          },
          fieldConfig: {
            defaults: {
              unit: 'none',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'blue',
                    value: null,
                  },
                ],
              },
              color: {
                mode: 'thresholds',
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            colorMode: 'none',
            graphMode: 'none',
            justifyMode: 'auto',
            orientation: 'auto',
            textMode: 'name',
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'smartproxy_adapter_info{%(matchers)s}' % s,
              legendFormat: '{{api}} {{version}}',
              range: false,
              instant: true,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'stat',
          id: 29,
          title: 'Adapter fields skipped',
          description: "How many fields the adapter could not read in the last snapshot (a getter threw, rejected, was late, or returned a shape the adapter does not know). 0 is healthy; otherwise that part of the proxy is missing from the metrics: see the adapter's README for overriding how a group is read.",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 5,
            w: 4,
            x: 20,
            y: 1,
          },
          fieldConfig: {
            defaults: {
              unit: 'none',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'orange',
                    value: 1,
                  },
                ],
              },
              color: {
                mode: 'thresholds',
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            colorMode: 'background',
            graphMode: 'none',
            justifyMode: 'auto',
            orientation: 'auto',
            textMode: 'value_and_name',
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'smartproxy_adapter_skipped_fields{%(matchers)s}' % s,
              legendFormat: '{{instance}}',
              range: false,
              instant: true,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 6,
          title: 'Snapshot age',
          description: "How old is the data? The exporter's clock minus the snapshot's timestamp. It grows when the proxy answers but its metrics are frozen; a slightly negative value means the clocks differ. Alert: SmartProxySnapshotStale (> 30 s for 5 m).",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 8,
            x: 0,
            y: 6,
          },
          fieldConfig: {
            defaults: {
              unit: 's',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'orange',
                    value: 10,
                  },
                  {
                    color: 'red',
                    value: 30,
                  },
                ],
              },
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'line+area',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'smartproxy_snapshot_age_seconds{%(matchers)s}' % s,
              legendFormat: '{{instance}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 7,
          title: 'Snapshot errors by reason',
          description: 'Why do snapshot fetches fail? Failed fetches per second by reason: connect (no socket or nobody listening), timeout, http_status, too_large, parse, version. Alert: SmartProxySnapshotErrors.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 8,
            x: 8,
            y: 6,
          },
          fieldConfig: {
            defaults: {
              unit: 'ops',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'red',
                    value: 0.01,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'line+area',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (reason) (rate(smartproxy_exporter_snapshot_errors_total{%(matchers)s}[$__rate_interval]))' % s,
              legendFormat: '{{reason}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 8,
          title: 'Snapshot fetch duration',
          description: 'How long does one snapshot take to fetch and parse, per scrape? Close to --proxy.timeout (default 2 s) means scrapes are about to time out.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 8,
            x: 16,
            y: 6,
          },
          fieldConfig: {
            defaults: {
              unit: 's',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'orange',
                    value: 0.5,
                  },
                  {
                    color: 'red',
                    value: 1.5,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'line+area',
                },
              },
            },
            overrides: [
              {
                matcher: {
                  id: 'byRegexp',
                  options: '.* size',
                },
                properties: [
                  {
                    id: 'unit',
                    value: 'bytes',
                  },
                  {
                    id: 'custom.axisPlacement',
                    value: 'right',
                  },
                  {
                    id: 'custom.thresholdsStyle',
                    value: {
                      mode: 'off',
                    },
                  },
                ],
              },
            ],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'smartproxy_exporter_snapshot_duration_seconds{%(matchers)s}' % s,
              legendFormat: '{{instance}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
            {
              refId: 'B',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'smartproxy_exporter_snapshot_size_bytes{%(matchers)s}' % s,
              legendFormat: '{{instance}} size',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'row',
          id: 9,
          title: 'Connections',
          collapsed: false,
          gridPos: {
            h: 1,
            w: 24,
            x: 0,
            y: 14,
          },
          panels: [],
        },
        {
          type: 'timeseries',
          id: 10,
          title: 'Active connections',
          description: 'How many client connections is each proxy holding now? The red line is %d%% of the capacity used by the SmartProxyConnectionsNearCapacity alert (smartproxy:connections_active:capacity, %d).' % [c.connectionsNearCapacityPercent, c.connectionsCapacity],
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 8,
            x: 0,
            y: 15,
          },
          fieldConfig: {
            defaults: {
              unit: 'short',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'red',
                    value: c.connectionsCapacity * c.connectionsNearCapacityPercent / 100,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'line+area',
                },
                axisLabel: 'connections',
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (instance) (smartproxy_connections_active{%(matchers)s})' % s,
              legendFormat: '{{instance}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 11,
          title: 'New connections per second',
          description: "How fast are clients connecting? The rate of the proxy's connection counter.",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 8,
            x: 8,
            y: 15,
          },
          fieldConfig: {
            defaults: {
              unit: 'cps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
                axisLabel: 'connections/s',
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (instance) (rate(smartproxy_connections_total{%(matchers)s}[$__rate_interval]))' % s,
              legendFormat: '{{instance}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 12,
          title: 'Distinct client IPs',
          description: 'How many different client addresses are connected? From connections.distinctIPs, counted before the top-N cut of the per-IP series.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 8,
            x: 16,
            y: 15,
          },
          fieldConfig: {
            defaults: {
              unit: 'short',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
                axisLabel: 'client IPs',
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'smartproxy_client_ips{%(matchers)s}' % s,
              legendFormat: '{{instance}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 13,
          title: 'Active connections per route',
          description: 'Which routes carry the connections? Summed over the selected instances. Routes beyond metrics.routes.max are folded into route="other".',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 9,
            w: 24,
            x: 0,
            y: 23,
          },
          fieldConfig: {
            defaults: {
              unit: 'short',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 30,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'normal',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
                axisLabel: 'connections',
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (route) (smartproxy_route_connections_active{%(matchers)s, route=~"$route"})' % s,
              legendFormat: '{{route}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'row',
          id: 14,
          title: 'Requests',
          collapsed: false,
          gridPos: {
            h: 1,
            w: 24,
            x: 0,
            y: 32,
          },
          panels: [],
        },
        {
          type: 'timeseries',
          id: 15,
          title: 'Requests per second (from the counter)',
          description: 'How many requests does each proxy serve? The rate of smartproxy_requests_total over the rate interval: exact over the window, robust to missed scrapes.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 33,
          },
          fieldConfig: {
            defaults: {
              unit: 'reqps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (instance) (rate(smartproxy_requests_total{%(matchers)s}[$__rate_interval]))' % s,
              legendFormat: '{{instance}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 16,
          title: "Requests per second (proxy's own windows)",
          description: 'What does the proxy itself report? requests.perSecond (window 1s) and requests.perMinute / 60 (window 60s), summed over the selected instances. Compare with the counter-based panel.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 33,
          },
          fieldConfig: {
            defaults: {
              unit: 'reqps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (window) (smartproxy_requests_per_second{%(matchers)s})' % s,
              legendFormat: '{{window}} window',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'row',
          id: 17,
          title: 'Throughput',
          collapsed: false,
          gridPos: {
            h: 1,
            w: 24,
            x: 0,
            y: 41,
          },
          panels: [],
        },
        {
          type: 'timeseries',
          id: 18,
          title: 'Throughput (from the byte counters)',
          description: 'How many bytes flow through the selected proxies? in = received from clients, out = sent to clients; rates of the byte counters.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 8,
            x: 0,
            y: 42,
          },
          fieldConfig: {
            defaults: {
              unit: 'Bps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum(rate(smartproxy_received_bytes_total{%(matchers)s}[$__rate_interval]))' % s,
              legendFormat: 'in (received from clients)',
              range: true,
              instant: false,
              editorMode: 'code',
            },
            {
              refId: 'B',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum(rate(smartproxy_sent_bytes_total{%(matchers)s}[$__rate_interval]))' % s,
              legendFormat: 'out (sent to clients)',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 19,
          title: "Throughput (proxy's 1s / 10s / 60s windows)",
          description: 'What does the proxy report as its throughput? throughput.instant (1s), .recent (10s) and .average (60s) per direction, summed over the selected instances.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 8,
            x: 8,
            y: 42,
          },
          fieldConfig: {
            defaults: {
              unit: 'Bps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (direction, window) (smartproxy_throughput_bytes_per_second{%(matchers)s})' % s,
              legendFormat: '{{direction}} {{window}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 20,
          title: 'Throughput per route',
          description: "Which routes move the bytes? The proxy's per-route throughput per direction, summed over the selected instances.",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 8,
            x: 16,
            y: 42,
          },
          fieldConfig: {
            defaults: {
              unit: 'Bps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (route, direction) (smartproxy_route_throughput_bytes_per_second{%(matchers)s, route=~"$route"})' % s,
              legendFormat: '{{route}} {{direction}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'row',
          id: 21,
          title: 'Top client IPs',
          collapsed: false,
          gridPos: {
            h: 1,
            w: 24,
            x: 0,
            y: 50,
          },
          panels: [],
        },
        {
          type: 'bargauge',
          id: 22,
          title: 'Top client IPs by active connections',
          description: 'Who are the heaviest clients? The top metrics.ips.top client IPs (or networks, with anonymize: prefix) by active connections; every other client is summed into ip="other".',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 12,
            w: 12,
            x: 0,
            y: 51,
          },
          fieldConfig: {
            defaults: {
              unit: 'short',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'thresholds',
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            displayMode: 'gradient',
            orientation: 'horizontal',
            showUnfilled: true,
            valueMode: 'color',
            namePlacement: 'left',
            minVizHeight: 16,
            maxVizHeight: 24,
            sizing: 'auto',
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sort_desc(sum by (ip) (smartproxy_ip_connections_active{%(matchers)s}))' % s,
              legendFormat: '{{ip}}',
              range: false,
              instant: true,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'table',
          id: 23,
          title: 'Top client IPs by throughput',
          description: 'How many bytes per second does each top client move, per direction? Same IP set as the connections panel; throughput of clients outside it goes to ip="other".',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 12,
            w: 12,
            x: 12,
            y: 51,
          },
          fieldConfig: {
            defaults: {
              unit: 'Bps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              custom: {
                align: 'auto',
                cellOptions: {
                  type: 'auto',
                },
              },
            },
            overrides: [],
          },
          options: {
            showHeader: true,
            sortBy: [
              {
                displayName: 'Value',
                desc: true,
              },
            ],
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sort_desc(sum by (ip, direction) (smartproxy_ip_throughput_bytes_per_second{%(matchers)s}))' % s,
              legendFormat: '{{ip}} {{direction}}',
              range: false,
              instant: true,
              editorMode: 'code',
              format: 'table',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 24,
          title: 'Series folded into "other"',
          description: 'How much is hidden in "other"? Distinct IPs, routes, backends, domains and protocols that were folded by the last scrape; raise metrics.ips.top, metrics.routes.max, metrics.backends.max or metrics.domains.top if the interesting ones disappear (protocols: a fixed 20 per side).',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 6,
            w: 24,
            x: 0,
            y: 63,
          },
          fieldConfig: {
            defaults: {
              unit: 'short',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (kind) (smartproxy_exporter_aggregated_series{%(matchers)s})' % s,
              legendFormat: '{{kind}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'row',
          id: 25,
          title: 'Connection duration',
          collapsed: false,
          gridPos: {
            h: 1,
            w: 24,
            x: 0,
            y: 69,
          },
          panels: [],
        },
        {
          type: 'timeseries',
          id: 26,
          title: 'Connection duration percentiles',
          description: "How long do connections last? The proxy's own p50/p95/p99 estimates per instance (not averageable across instances, so shown per instance).",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 70,
          },
          fieldConfig: {
            defaults: {
              unit: 's',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'smartproxy_connection_duration_seconds{%(matchers)s}' % s,
              legendFormat: '{{instance}} p{{percentile}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 27,
          title: 'Bytes per connection percentiles',
          description: "How much does one connection transfer? The proxy's p50/p95/p99 of bytes per connection, per direction and instance.",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 70,
          },
          fieldConfig: {
            defaults: {
              unit: 'bytes',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'smartproxy_connection_transferred_bytes{%(matchers)s}' % s,
              legendFormat: '{{instance}} {{direction}} p{{percentile}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'row',
          id: 30,
          title: 'Backends',
          collapsed: false,
          gridPos: {
            h: 1,
            w: 24,
            x: 0,
            y: 78,
          },
          panels: [],
        },
        {
          type: 'timeseries',
          id: 31,
          title: 'Active connections per backend',
          description: "Which backends (upstream targets) hold the proxy's connections? Summed over the selected instances. Backends beyond metrics.backends.max (by total connections) are folded into backend=\"other\".",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 79,
          },
          fieldConfig: {
            defaults: {
              unit: 'short',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 30,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'normal',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
                axisLabel: 'connections',
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (backend) (smartproxy_backend_connections_active{%(matchers)s, backend=~"$backend"})' % s,
              legendFormat: '{{backend}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 32,
          title: 'Backend errors per second by kind',
          description: "Which backends fail, and how: connect (no TCP connection), handshake (TLS or protocol negotiation) and request errors per second. Alert: SmartProxyBackendErrors (errors above %g%% of the backend's new connections for %s)." % [c.backendErrorsPercent, c.backendErrorsFor],
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 79,
          },
          fieldConfig: {
            defaults: {
              unit: 'ops',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (backend, kind) (rate(smartproxy_backend_errors_total{%(matchers)s, backend=~"$backend"}[$__rate_interval]))' % s,
              legendFormat: '{{backend}} {{kind}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 33,
          title: 'Backend connect time',
          description: "How long the proxy takes to connect to each backend (the proxy's own figure, per instance). A backend that gets slower here usually shows errors next.",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 87,
          },
          fieldConfig: {
            defaults: {
              unit: 's',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'max by (instance, backend) (smartproxy_backend_connect_time_seconds{%(matchers)s, backend=~"$backend"})' % s,
              legendFormat: '{{backend}} ({{instance}})',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 34,
          title: 'Backend connection pool hit ratio',
          description: 'Share of backend requests served over a pooled (reused) connection: pool hits / (hits + misses), per backend. A falling ratio means more new backend connections: more connect time and more load on the backend.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 87,
          },
          fieldConfig: {
            defaults: {
              unit: 'percentunit',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
              max: 1,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (backend) (rate(smartproxy_backend_pool_hits_total{%(matchers)s, backend=~"$backend"}[$__rate_interval])) / (sum by (backend) (rate(smartproxy_backend_pool_hits_total{%(matchers)s, backend=~"$backend"}[$__rate_interval])) + sum by (backend) (rate(smartproxy_backend_pool_misses_total{%(matchers)s, backend=~"$backend"}[$__rate_interval])))' % s,
              legendFormat: '{{backend}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'row',
          id: 35,
          title: 'Protocols and UDP',
          collapsed: false,
          gridPos: {
            h: 1,
            w: 24,
            x: 0,
            y: 95,
          },
          panels: [],
        },
        {
          type: 'timeseries',
          id: 36,
          title: 'Active connections per protocol',
          description: 'Which protocols the connections speak, on the client side (frontend: h1, h2, h3, ws, ...) and on the backend side. Summed over the selected instances; more than 20 protocols on a side are folded into protocol="other".',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 6,
            x: 0,
            y: 96,
          },
          fieldConfig: {
            defaults: {
              unit: 'short',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
                axisLabel: 'connections',
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (side, protocol) (smartproxy_protocol_connections_active{%(matchers)s})' % s,
              legendFormat: '{{side}} {{protocol}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 37,
          title: 'New connections per second per protocol',
          description: 'How fast connections of each protocol and side open (rate of smartproxy_protocol_connections_total).',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 6,
            x: 6,
            y: 96,
          },
          fieldConfig: {
            defaults: {
              unit: 'cps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
                axisLabel: 'connections/s',
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (side, protocol) (rate(smartproxy_protocol_connections_total{%(matchers)s}[$__rate_interval]))' % s,
              legendFormat: '{{side}} {{protocol}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 38,
          title: 'UDP sessions',
          description: 'Active UDP sessions (QUIC/HTTP3 and UDP forwarding) and new sessions per second, summed over the selected instances.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 6,
            x: 12,
            y: 96,
          },
          fieldConfig: {
            defaults: {
              unit: 'short',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum(smartproxy_udp_sessions_active{%(matchers)s})' % s,
              legendFormat: 'active',
              range: true,
              instant: false,
              editorMode: 'code',
            },
            {
              refId: 'B',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum(rate(smartproxy_udp_sessions_total{%(matchers)s}[$__rate_interval]))' % s,
              legendFormat: 'new per second',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'timeseries',
          id: 39,
          title: 'UDP datagrams per second',
          description: 'UDP datagrams per second per direction (in: received from clients), summed over the selected instances.',
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 8,
            w: 6,
            x: 18,
            y: 96,
          },
          fieldConfig: {
            defaults: {
              unit: 'pps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (direction) (rate(smartproxy_udp_datagrams_total{%(matchers)s}[$__rate_interval]))' % s,
              legendFormat: '{{direction}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'row',
          id: 40,
          title: 'Domains',
          collapsed: false,
          gridPos: {
            h: 1,
            w: 24,
            x: 0,
            y: 104,
          },
          panels: [],
        },
        {
          type: 'timeseries',
          id: 41,
          title: 'Requests per second per domain',
          description: "HTTP requests per second per domain (Host header or SNI), the proxy's last-minute rate (window=\"60s\"), summed over the selected instances. TLS passthrough is not counted. The metrics.domains.top busiest domains are kept, the rest summed into domain=\"other\".",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 9,
            w: 16,
            x: 0,
            y: 105,
          },
          fieldConfig: {
            defaults: {
              unit: 'reqps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 30,
                showPoints: 'never',
                spanNulls: false,
                stacking: {
                  mode: 'normal',
                  group: 'A',
                },
                thresholdsStyle: {
                  mode: 'off',
                },
              },
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'bottom',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sum by (domain) (smartproxy_domain_requests_per_second{%(matchers)s, window="60s"})' % s,
              legendFormat: '{{domain}}',
              range: true,
              instant: false,
              editorMode: 'code',
            },
          ],
        },
        {
          type: 'bargauge',
          id: 42,
          title: 'Busiest domains (last second)',
          description: "Which domains get the most HTTP requests right now: the proxy's 1 s rate per domain (window=\"1s\"), busiest first.",
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          gridPos: {
            h: 9,
            w: 8,
            x: 16,
            y: 105,
          },
          fieldConfig: {
            defaults: {
              unit: 'reqps',
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              color: {
                mode: 'thresholds',
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            displayMode: 'gradient',
            orientation: 'horizontal',
            showUnfilled: true,
            valueMode: 'color',
            namePlacement: 'left',
            minVizHeight: 16,
            maxVizHeight: 24,
            sizing: 'auto',
          },
          targets: [
            {
              refId: 'A',
              datasource: {
                type: 'prometheus',
                uid: '${datasource}',
              },
              expr: 'sort_desc(sum by (domain) (smartproxy_domain_requests_per_second{%(matchers)s, window="1s"}))' % s,
              legendFormat: '{{domain}}',
              range: false,
              instant: true,
              editorMode: 'code',
            },
          ],
        },
      ],
    },
  },
}
