"""The result table as data, and the report: the table, then the same numbers as JSON.

Each row of ``ROWS`` names a number in the results (a dotted ``path``), how
to label and print it, and the target it is judged by. Templates are
``str.format`` templates over the dict that holds the number (``{generator}``,
``{p99_ms:.1f}``), plus ``{value}`` (the number as shown), ``{runs}`` and
``{pct[key]}`` (another number of that dict, as a percentage).
"""

from __future__ import annotations

import json
import operator
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

# Targets (issue 8).
TARGET_CLIENT_RATIO = 0.50
TARGET_SUITE_SERIAL_S = 10.0
TARGET_REJECT_RPS = 2000.0
TARGET_REJECT_P99_MS = 20.0

Node = Mapping[str, Any]
Results = Mapping[str, Any]


@dataclass(frozen=True)
class Row:
    """One line of the table; see the module docstring for the templates."""

    key: str
    label: str
    path: str
    text: str
    target: str = "—"
    #: Judged on the dict that holds the number; None: informational.
    passes: Callable[[Node], bool] | None = None
    #: The number is a share and is shown (and kept in the JSON) as a percentage.
    percent: bool = False
    #: Whether the row applies to these results; None: always.
    shown: Callable[[Results], bool] | None = None


def _ran(section: str) -> Callable[[Results], bool]:
    """Rows of an optional measurement: shown when it ran."""
    return lambda results: bool(results.get(section))


def _also_ran(generator: str) -> Callable[[Results], bool]:
    """A reject generator that ran and is not the one the (a) rows report: listed below them."""

    def shown(results: Results) -> bool:
        load = results["load"]
        return generator in load and load[generator] is not load["reject"]

    return shown


def _no_slower(node: Node) -> bool:
    """``-n 2`` is worth having only if it is no slower than serial."""
    return node["parallel_s"] <= node["serial_s"]


ROWS: tuple[Row, ...] = (
    Row(
        "suite_serial_s", "suite wall time, serial (median of {runs})", "suite.serial_s",
        "{value:.2f} s", f"<= {TARGET_SUITE_SERIAL_S:.0f} s",
        lambda s: s["serial_s"] <= TARGET_SUITE_SERIAL_S,
    ),
    Row(
        "suite_n2_s", "suite wall time, -n 2 (median of {runs})", "suite.parallel_s",
        "{value:.2f} s", "<= serial", _no_slower,
    ),
    Row(
        "suite_n2_ratio", "    -n 2 / serial (median of the {runs} pairs)", "suite.paired_ratio",
        "{value:.0f} %", percent=True,
    ),
    Row("raw_rps", "raw http.client GET /auth/apps", "client.raw_rps", "{value:.0f} req/s"),
    Row(
        "client_rps", "DfnsClient.request GET /auth/apps", "client.client_rps", "{value:.0f} req/s",
    ),
    Row(
        "client_ratio", "    client / raw", "client.ratio",
        "{value:.0f} %", f">= {TARGET_CLIENT_RATIO * 100:.0f} %",
        lambda c: c["ratio"] >= TARGET_CLIENT_RATIO, percent=True,
    ),
    Row(
        "client_cpu_us", "    client-side CPU per request, DfnsClient / raw",
        "client.client_cpu_us_per_req.client", "{value:.0f} us / {raw:.0f} us",
    ),
    Row(
        "thin_ratio", "    same DfnsClient over http.client (bench-only) / raw",
        "client.thin_ratio", "{value:.0f} %", percent=True,
    ),
    Row(
        "reject_rps", "(a) missing nonce, 8 clients [{generator}]", "load.reject.req_per_s",
        "{value:.0f} req/s", f">= {TARGET_REJECT_RPS:.0f}",
        lambda a: a["req_per_s"] >= TARGET_REJECT_RPS,
    ),
    Row("reject_p50_ms", "    p50 latency", "load.reject.p50_ms", "{value:.2f} ms"),
    Row(
        "reject_p99_ms", "    p99 latency", "load.reject.p99_ms",
        "{value:.2f} ms", f"<= {TARGET_REJECT_P99_MS:.0f} ms",
        lambda a: a["p99_ms"] <= TARGET_REJECT_P99_MS,
    ),
    Row(
        "reject_server_cpu", "    server CPU (1 core = 100 %)", "load.reject.server_cpu_share",
        "{value:.0f} %", percent=True,
    ),
    Row(
        "reject_py_1x8_rps",
        "    same via {generator} (p99 {p99_ms:.1f} ms, gen CPU {pct[generator_cpu_share]:.0f} %)",
        "load.reject_py_1x8.req_per_s", "{value:.0f} req/s", shown=_also_ran("reject_py_1x8"),
    ),
    Row(
        "reject_py_2x4_rps",
        "    same via {generator} (p99 {p99_ms:.1f} ms, gen CPU {pct[generator_cpu_share]:.0f} %)",
        "load.reject_py_2x4.req_per_s", "{value:.0f} req/s", shown=_also_ran("reject_py_2x4"),
    ),
    Row(
        "reject_wrk_rps", "    same via {generator} (p99 {p99_ms:.1f} ms)",
        "load.reject_wrk.req_per_s", "{value:.0f} req/s", shown=_also_ran("reject_wrk"),
    ),
    Row(
        "flow_rps", "(b) user-action flow, 8 clients [{generator}]", "load.flow.ops_per_s",
        "{value:.0f} flows/s",
    ),
    Row(
        "flow_req_rps", "    HTTP requests (3 per flow)", "load.flow.req_per_s",
        "{value:.0f} req/s",
    ),
    Row("flow_p50_ms", "    p50 flow latency", "load.flow.p50_ms", "{value:.1f} ms"),
    Row("flow_p99_ms", "    p99 flow latency", "load.flow.p99_ms", "{value:.1f} ms"),
    Row(
        "flow_cpu", "    server CPU / generator CPU", "load.flow.server_cpu_share",
        "{value:.0f} % / {pct[generator_cpu_share]:.0f} %", percent=True,
    ),
    Row(
        "valid_rps", "(c) valid GET /auth/apps, 8 clients [{generator}]", "load.valid.req_per_s",
        "{value:.0f} req/s",
    ),
    Row("valid_p99_ms", "    p99 latency", "load.valid.p99_ms", "{value:.2f} ms"),
    Row(
        "suite_maxrss_mib", "peak RSS, serial suite (one process)", "suite.serial_maxrss_mib",
        "{value:.0f} MiB",
    ),
    Row(
        "suite_n2_maxrss_mib", "peak RSS, -n 2 (largest process)", "suite.parallel_maxrss_mib",
        "{value:.0f} MiB",
    ),
    Row(
        "server_rss_mib", "peak RSS, dfns-mock after the load", "load.server_peak_rss_mib",
        "{value:.0f} MiB",
    ),
    Row(
        "suite_cached_serial_s", "suite wall time, serial, bytecode cache (as tox)",
        "suite_cached.serial_s", "{value:.2f} s", shown=_ran("suite_cached"),
    ),
    Row(
        "suite_cached_n2_s", "suite wall time, -n 2, bytecode cache (as tox)",
        "suite_cached.parallel_s", "{value:.2f} s", "<= serial", _no_slower,
        shown=_ran("suite_cached"),
    ),
    Row(
        "suite_cached_n2_ratio", "    -n 2 / serial, bytecode cache (median of the pairs)",
        "suite_cached.paired_ratio", "{value:.0f} %", percent=True, shown=_ran("suite_cached"),
    ),
    *(Row("requests_%s" % version, "requests per default run, %s (by --base-url; the server counts)" % version,
          "quota.requests.%s.requests" % version, "{value} requests", shown=_ran("quota"))
      for version in ("2024-08-19", "2024-08-19-extended", "2025-02-07", "2026")),
    *(Row("quota_%d_wall_s" % per_minute, "default 2026 run behind %d req/min (window 6 s, not 60)" % per_minute,
          "quota.paced.%d.wall_s" % per_minute,
          "{value:.1f} s (60 s window: ~{at_60s_s:.0f} s); {requests} req, {refused_429} 429s",
          "0 429s, exit 0", lambda node: node["refused_429"] == 0 and node["exit"] == 0, shown=_ran("quota"))
      for per_minute in (100, 1000)),
    Row(
        "startup_first_request_s", "start-up: launch -> first request (median)",
        "startup.first_request", "{value:.3f} s",
    ),
    Row(
        "startup_plugin_import_s", "    launch -> pytest loads plugins", "startup.plugin_import",
        "{value:.3f} s",
    ),
    Row(
        "startup_collected_s", "    launch -> collection finished", "startup.collection_finish",
        "{value:.3f} s",
    ),
    Row(
        "startup_cached_first_request_s",
        "start-up with a bytecode cache (as tox): launch -> first request",
        "startup_cached.first_request", "{value:.3f} s", shown=_ran("startup_cached"),
    ),
)


class _Percent:
    """``{pct[key]}`` in a template: a share of the same dict, shown as a percentage."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def __getitem__(self, key: str) -> float:
        return self.node[key] * 100


def render(row: Row, results: Results, runs: int) -> dict[str, Any]:
    """One row of the table, as printed and as kept in the JSON ``table``."""
    *parents, name = row.path.split(".")
    node: Node = reduce(operator.getitem, parents, results)
    value = node[name]
    if value is not None and row.percent:
        value *= 100
    fields = ChainMap({"value": value, "runs": runs, "pct": _Percent(node)}, node)
    return {
        "key": row.key,
        "metric": row.label.format_map(fields),
        "value": value,
        "text": "n/a" if value is None else row.text.format_map(fields),
        "target": row.target,
        "result": "info" if row.passes is None else ("PASS" if row.passes(node) else "MISS"),
    }


def build_rows(results: Results, runs: int) -> list[dict[str, Any]]:
    """The rows of ``ROWS`` that apply to these results, in order."""
    return [render(row, results, runs) for row in ROWS if row.shown is None or row.shown(results)]


def print_table(rows: list[dict[str, Any]]) -> None:
    """Columns as wide as their widest cell, so the table reads in a terminal or a log."""
    width = max(len(r["metric"]) for r in rows)
    vwidth = max(len(r["text"]) for r in rows)
    line = "%-*s  %*s  %-10s  %s"
    print(line % (width, "metric", vwidth, "value", "target", "result"))
    print("-" * (width + vwidth + 26))
    for r in rows:
        print(line % (width, r["metric"], vwidth, r["text"], r["target"], r["result"]))


def report(config: dict[str, Any], results: Results, runs: int, json_path: str | None) -> None:
    """The table, then ``config``, the table and the raw results as JSON (also to ``json_path``)."""
    rows = build_rows(results, runs)
    print_table(rows)
    text = json.dumps({"config": config, "table": rows, "raw": results}, indent=2, default=float)
    print(text)
    if json_path:
        with open(json_path, "w") as handle:
            handle.write(text + "\n")
