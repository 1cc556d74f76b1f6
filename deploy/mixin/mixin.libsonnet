// The SmartProxy monitoring mixin (the layout of node-mixin and kubernetes-mixin):
//   prometheusRules     recording rules (rules/rules.libsonnet)
//   prometheusAlerts    alerts, each with a static summary and an absolute runbook_url
//                       (alerts/alerts.libsonnet, lib/runbook-links.libsonnet)
//   grafanaDashboards   the dashboard (dashboards/)
// all built from _config (config.libsonnet). deploy/mixin/generate.sh writes them to
// deploy/prometheus/rules.yml, deploy/kubernetes/base/prometheusrule.yaml and
// grafana/dashboards/smartproxy.json. Use it with your own settings:
//   (import 'mixin.libsonnet') + { _config+:: { smartproxySelector: 'job="edge-proxy"' } }
(import 'config.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'lib/runbook-links.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
