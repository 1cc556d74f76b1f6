#!/usr/bin/env bash
# deploy/kubernetes/base/prometheusrule.yaml is an output of the monitoring mixin (deploy/mixin),
# like deploy/prometheus/rules.yml and the dashboard: this runs deploy/mixin/generate.sh, which
# writes all three (arguments are passed on: --check, --mixin FILE, --out DIR; see its --help).
exec "$(dirname "$0")/../mixin/generate.sh" "$@"
