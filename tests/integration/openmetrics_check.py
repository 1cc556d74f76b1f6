#!/usr/bin/python3
"""Judges an OpenMetrics exposition with prometheus_client's strict parser (Debian's
python3-prometheus-client) and compares it with the 0.0.4 text of the same exporter.

Usage: openmetrics_check.py OPENMETRICS_FILE TEXT_FILE
Exit 0 and one JSON line on stdout when:
  - the OpenMetrics file parses strictly (it raises on a missing # EOF, a bad UNIT, a clash of
    names, a non-1 info value, a negative or NaN counter, ...);
  - every (sample name, labels) of the 0.0.4 text is in it, and it has no other sample but the
    `_created` ones; each `_created` sample has a `_total` sample with the same labels;
  - its types match: counter for counter, info for a 0.0.4 gauge named *_info, else gauge.
The JSON: {"families": n, "samples": n, "created": {"name{labels}": value}}.
Exit 1 with the reason on stderr otherwise.
"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text


def key(sample):
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
    return f"{sample.name}{{{labels}}}"


def main():
    om_text = open(sys.argv[1], encoding="utf-8").read()
    plain_text = open(sys.argv[2], encoding="utf-8").read()
    try:
        om_families = list(parse_om(om_text))
    except ValueError as error:
        sys.exit(f"strict OpenMetrics parser: {error}")
    plain_families = list(parse_text(plain_text))

    om_types = {}
    om_samples = {}
    created = {}
    for family in om_families:
        for sample in family.samples:
            om_types[sample.name] = family.type
            if sample.name.endswith("_created") and family.type == "counter":
                created[key(sample)] = sample.value
            else:
                om_samples[key(sample)] = sample
    problems = []
    plain_keys = set()
    for family in plain_families:
        for sample in family.samples:
            plain_keys.add(key(sample))
            name = sample.name
            expected = family.type
            if family.type == "gauge" and name.endswith("_info"):
                expected = "info"
            if om_types.get(name) != expected:
                problems.append(f"{name}: type {om_types.get(name)} in OpenMetrics, "
                                f"{family.type} in 0.0.4")
    missing = sorted(plain_keys - om_samples.keys())
    extra = sorted(om_samples.keys() - plain_keys)
    if missing:
        problems.append(f"{len(missing)} samples of the 0.0.4 text missing, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} samples not in the 0.0.4 text, e.g. {extra[:3]}")
    for created_key in created:
        total_key = created_key.replace("_created{", "_total{", 1)
        if total_key not in om_samples:
            problems.append(f"{created_key} has no {total_key}")
    if problems:
        sys.exit("\n".join(problems))
    print(json.dumps({"families": len(om_families), "samples": len(om_samples) + len(created),
                      "created": created}))


if __name__ == "__main__":
    main()
