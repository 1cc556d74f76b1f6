// grafanaDashboards of the mixin: file name → dashboard.
(import 'smartproxy.libsonnet')
