// Adds to every alert the annotation runbook_url: _config.runbookURLPattern with the alert's name
// in lower case, which is the GitHub anchor of the alert's "## <AlertName>" section in
// docs/runbook.md (as kubernetes-mixin's lib/add-runbook-links.libsonnet does).
{
  prometheusAlerts+:: {
    groups: [
      group {
        rules: [
          rule {
            annotations+: {
              runbook_url: $._config.runbookURLPattern % std.asciiLower(rule.alert),
            },
          }
          for rule in group.rules
        ],
      }
      for group in super.groups
    ],
  },
}
