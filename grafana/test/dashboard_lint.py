#!/usr/bin/env python3
"""The rules of Grafana's dashboard linter (github.com/grafana/dashboard-linter), checked on the
dashboard JSON alone: no Grafana, no Prometheus. Standard library only.

lint(dashboard) returns a list of Problem(rule, where, message), empty when the dashboard passes.
Rule names are the linter's own, so a failure can be looked up in its docs, except
uid-title-rule, which is ours:
  uid-title-rule               the dashboard has a fixed uid and a title (provisioning and the
                               sidecar key dashboards by uid)
  uneditable-dashboard-rule    editable is false (the file is the source; UI edits would be lost)
  template-datasource-rule     a datasource variable named datasource, labelled "Data source",
                               querying prometheus
  template-job-rule            a job query variable on $datasource, labelled Job, multi-select,
  template-instance-rule       includeAll with allValue ".+" (same for instance)
  template-label-promql-rule   every query variable is label_values/label_names/metrics/
                               query_result over a selector that parses
  template-on-time-change-reload-rule  query variables refresh on time range change (refresh 2)
  panel-datasource-rule        every panel and every target uses ${datasource}
  panel-title-description-rule every panel has a title and a description
  panel-units-rule             every unit (defaults and overrides) is a Grafana unit id
  target-job-rule              every selector of every query has job=~"$job"
  target-instance-rule         every selector of every query has instance=~"$instance"
  target-rate-interval-rule    rate/irate/increase ranges are $__rate_interval
  target-promql-rule           every query lexes and its {...} blocks are label matchers

Usage: dashboard_lint.py DASHBOARD.json   (exit 1 and one line per problem if any)
"""

import json
import re
import sys
from typing import NamedTuple

# Unit ids from Grafana's packages/grafana-data/src/valueFormats/categories.ts (the categories an
# exporter dashboard can need). A free-text "suffix:" unit is not an id: linters reject it.
GRAFANA_UNITS = frozenset([
    # Misc
    "none", "string", "short", "percent", "percentunit", "sci", "locale",
    # Data (IEC and metric)
    "bits", "bytes", "kbytes", "mbytes", "gbytes", "tbytes", "pbytes",
    "decbits", "decbytes", "deckbytes", "decmbytes", "decgbytes", "dectbytes", "decpbytes",
    # Data rate
    "pps", "bps", "Bps", "KBs", "Kbits", "MBs", "Mbits", "GBs", "Gbits", "TBs", "Tbits",
    "binBps", "binbps", "KiBs", "Kibits", "MiBs", "Mibits", "GiBs", "Gibits",
    # Time
    "hertz", "ns", "µs", "ms", "s", "m", "h", "d",
    "dtdurationms", "dtdurations", "dthms", "dtdhms",
    "dateTimeAsIso", "dateTimeFromNow",
    # Throughput
    "cps", "ops", "reqps", "rps", "wps", "iops", "cpm", "opm", "rpm", "wpm",
    # Boolean
    "bool", "bool_yes_no", "bool_on_off",
])
# Panel types that show values: rows and text panels have no unit, query or datasource.
DATA_PANEL_TYPES = frozenset(["stat", "timeseries", "bargauge", "gauge", "table", "graph",
                              "singlestat", "piechart", "heatmap", "state-timeline"])
DATASOURCE_REFERENCES = frozenset(["${datasource}", "$datasource"])
VARIABLE_FUNCTIONS = frozenset(["label_values", "label_names", "metrics", "query_result"])


class Problem(NamedTuple):
    rule: str
    where: str
    message: str

    def __str__(self):
        return f"{self.rule}: {self.where}: {self.message}"


def all_panels(panels):
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))


def panel_name(panel):
    return f"panel {panel.get('title', '')!r} (id {panel.get('id')})"


def datasource_uid(node):
    source = node.get("datasource")
    return source.get("uid") if isinstance(source, dict) else source


# --- A PromQL lexer just deep enough to find every vector selector and its matchers. ---

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<number>0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<open_brace>\{)
  | (?P<close_brace>\})
  | (?P<open_paren>\()
  | (?P<close_paren>\))
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=,@])
""", re.VERBOSE)
_GROUPING_KEYWORDS = frozenset(["by", "without", "on", "ignoring", "group_left", "group_right"])
_KEYWORDS = _GROUPING_KEYWORDS | {"and", "or", "unless", "bool", "offset", "inf", "nan"}


def _tokens(expr):
    position = 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if not match:
            raise ValueError(f"cannot read PromQL at {expr[position:position + 20]!r}")
        position = match.end()
        if match.lastgroup != "space":
            yield match.lastgroup, match.group()


def _unquote(literal):
    if literal.startswith("`"):
        return literal[1:-1]
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def selectors(expr):
    """Returns [(metric name or None, [(label, op, value)])] for every vector selector of expr;
    raises ValueError when expr does not lex or a brace block is not a list of matchers."""
    tokens = list(_tokens(expr))
    found = []
    i = 0
    depth_stack = []  # True for a paren that holds a grouping label list
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "open_paren":
            grouping = i > 0 and tokens[i - 1][0] == "ident" and \
                tokens[i - 1][1] in _GROUPING_KEYWORDS
            depth_stack.append(grouping)
            i += 1
            continue
        if kind == "close_paren":
            if not depth_stack:
                raise ValueError("unbalanced )")
            depth_stack.pop()
            i += 1
            continue
        if depth_stack and depth_stack[-1]:
            i += 1  # a label name of by (...) / on (...)
            continue
        name = None
        if kind == "ident":
            following = tokens[i + 1] if i + 1 < len(tokens) else (None, None)
            if (text.lower() in _KEYWORDS or following[0] == "open_paren" or
                    following[1] in ("by", "without")):
                i += 1  # keyword, function call, or aggregation with by/without first
                continue
            name = text
            i += 1
            if following[0] != "open_brace":
                found.append((name, []))
                continue
            kind, text = tokens[i]
        if kind == "open_brace":
            matchers, i = _matchers(tokens, i + 1)
            found.append((name, matchers))
            continue
        if kind == "close_brace":
            raise ValueError("unbalanced }")
        i += 1
    if depth_stack:
        raise ValueError("unbalanced (")
    return found


def _matchers(tokens, i):
    matchers = []
    while True:
        if i >= len(tokens):
            raise ValueError("unterminated {")
        if tokens[i][0] == "close_brace":
            return matchers, i + 1
        if (i + 2 >= len(tokens) or tokens[i][0] not in ("ident", "string") or
                tokens[i + 1][1] not in ("=", "!=", "=~", "!~") or tokens[i + 2][0] != "string"):
            raise ValueError(f"bad label matcher near {' '.join(t for _, t in tokens[i:i + 3])!r}")
        label = tokens[i][1] if tokens[i][0] == "ident" else _unquote(tokens[i][1])
        matchers.append((label, tokens[i + 1][1], _unquote(tokens[i + 2][1])))
        i += 3
        if i < len(tokens) and tokens[i][1] == ",":
            i += 1


# --- The rules ---

def _check_variable(variables, name, problems):
    rule = f"template-{name}-rule"
    variable = variables.get(name)
    if variable is None:
        problems.append(Problem(rule, "dashboard", f"no ${name} variable"))
        return
    where = f"variable ${name}"
    if variable.get("type") != "query":
        problems.append(Problem(rule, where, f"type is {variable.get('type')!r}, not a query"))
    if datasource_uid(variable) not in DATASOURCE_REFERENCES:
        problems.append(Problem(rule, where, f"datasource is {datasource_uid(variable)!r}, "
                                             "not ${datasource}"))
    if variable.get("label") != name.title():
        problems.append(Problem(rule, where, f"label is {variable.get('label')!r}, "
                                             f"not {name.title()!r}"))
    if not variable.get("multi"):
        problems.append(Problem(rule, where, "not multi-select (multi: true)"))
    if not variable.get("includeAll"):
        problems.append(Problem(rule, where, "no All option (includeAll: true)"))
    if variable.get("allValue") != ".+":
        problems.append(Problem(rule, where, f"allValue is {variable.get('allValue')!r}, not '.+'"))


def variable_query(variable):
    query = variable.get("query")
    return query.get("query", "") if isinstance(query, dict) else (query or "")


def _lint_dashboard_level(dashboard, problems):
    if not dashboard.get("uid"):
        problems.append(Problem("uid-title-rule", "dashboard", "no fixed uid"))
    if not dashboard.get("title"):
        problems.append(Problem("uid-title-rule", "dashboard", "no title"))
    if dashboard.get("editable", True) is not False:
        problems.append(Problem("uneditable-dashboard-rule", "dashboard",
                                f"editable is {dashboard.get('editable')!r}, must be false"))
    template_list = dashboard.get("templating", {}).get("list", [])
    variables = {v.get("name"): v for v in template_list}
    sources = [v for v in template_list if v.get("type") == "datasource"]
    if len(sources) != 1:
        problems.append(Problem("template-datasource-rule", "dashboard",
                                f"{len(sources)} datasource variables, want exactly one"))
    for source in sources:
        where = f"variable ${source.get('name')}"
        if source.get("name") not in ("datasource", "prometheus_datasource"):
            problems.append(Problem("template-datasource-rule", where, "must be named datasource"))
        if source.get("label") not in ("Data source", "Prometheus data source"):
            problems.append(Problem("template-datasource-rule", where,
                                    f"label is {source.get('label')!r}, not 'Data source'"))
        if source.get("query") != "prometheus":
            problems.append(Problem("template-datasource-rule", where,
                                    f"query is {source.get('query')!r}, not 'prometheus'"))
    _check_variable(variables, "job", problems)
    _check_variable(variables, "instance", problems)
    for variable in template_list:
        if variable.get("type") != "query":
            continue
        where = f"variable ${variable.get('name')}"
        query = variable_query(variable).strip()
        match = re.fullmatch(r"([a-z_]+)\((.*)\)", query, re.DOTALL)
        if not match or match.group(1) not in VARIABLE_FUNCTIONS:
            problems.append(Problem("template-label-promql-rule", where,
                                    f"query {query!r} is not one of "
                                    f"{sorted(VARIABLE_FUNCTIONS)}(...)"))
        else:
            argument = match.group(2)
            if match.group(1) == "label_values":
                argument = re.sub(r",\s*[a-zA-Z_][a-zA-Z0-9_]*\s*$", "", argument)
            try:
                if argument.strip() and not selectors(argument):
                    raise ValueError("no selector")
            except ValueError as error:
                problems.append(Problem("template-label-promql-rule", where,
                                        f"query {query!r}: {error}"))
        if variable.get("refresh") != 2:
            problems.append(Problem("template-on-time-change-reload-rule", where,
                                    f"refresh is {variable.get('refresh')!r}, not 2 (on time "
                                    "range change)"))


def _lint_target(panel, target, problems):
    where = f"{panel_name(panel)} target {target.get('refId')}"
    if datasource_uid(target) not in DATASOURCE_REFERENCES:
        problems.append(Problem("panel-datasource-rule", where,
                                f"datasource is {datasource_uid(target)!r}, not ${{datasource}}"))
    expr = target.get("expr", "")
    if not expr:
        problems.append(Problem("panel-datasource-rule", where, "no PromQL expr"))
        return
    try:
        found = selectors(expr)
    except ValueError as error:
        problems.append(Problem("target-promql-rule", where, f"{error}: {expr}"))
        return
    for name, matchers in found:
        for label in ("job", "instance"):
            wanted = (label, "=~", f"${label}")
            if wanted not in matchers:
                have = [f"{m[0]}{m[1]}{m[2]!r}" for m in matchers if m[0] == label]
                problems.append(Problem(
                    f"target-{label}-rule", where,
                    f"selector {name or ''}{{...}} has {have or 'no ' + label + ' matcher'}, "
                    f"want {label}=~\"${label}\""))
    for function, window in re.findall(r"\b(rate|irate|increase)\s*\([^\[]*\[([^\]]*)\]", expr):
        if window != "$__rate_interval":
            problems.append(Problem("target-rate-interval-rule", where,
                                    f"{function}(...[{window}]), want [$__rate_interval]"))


def _lint_panel(panel, problems):
    where = panel_name(panel)
    if not panel.get("title"):
        problems.append(Problem("panel-title-description-rule", where, "no title"))
    if panel.get("type") == "row":
        return
    if not panel.get("description"):
        problems.append(Problem("panel-title-description-rule", where, "no description"))
    if panel.get("type") not in DATA_PANEL_TYPES:
        return
    if datasource_uid(panel) not in DATASOURCE_REFERENCES:
        problems.append(Problem("panel-datasource-rule", where,
                                f"datasource is {datasource_uid(panel)!r}, not ${{datasource}}"))
    field_config = panel.get("fieldConfig", {})
    units = [("defaults", field_config.get("defaults", {}).get("unit"))]
    for override in field_config.get("overrides", []):
        for prop in override.get("properties", []):
            if prop.get("id") == "unit":
                units.append((f"override {override.get('matcher', {}).get('options')!r}",
                              prop.get("value")))
    for place, unit in units:
        if unit not in GRAFANA_UNITS:
            problems.append(Problem("panel-units-rule", where,
                                    f"{place} unit {unit!r} is not a Grafana unit id"))
    if not panel.get("targets"):
        problems.append(Problem("panel-datasource-rule", where, "no query"))
    for target in panel.get("targets", []):
        _lint_target(panel, target, problems)


def lint(dashboard):
    """Returns the problems of a dashboard (a parsed JSON object), in dashboard order."""
    problems = []
    _lint_dashboard_level(dashboard, problems)
    for panel in all_panels(dashboard.get("panels", [])):
        _lint_panel(panel, problems)
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__.splitlines()[-1].strip())
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        problems = lint(json.load(f))
    for problem in problems:
        print(f"FAIL lint {problem}")
    if not problems:
        print(f"ok   lint {sys.argv[1]}: no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
