"""The conformance report as one self-contained HTML page, readable at a glance.

One row per documented error, coloured by verdict (green verified, red
failed, grey not verified, amber drift), with the evidence of what failed and
why cases were skipped. Inline CSS only: no script, font, image or link to
load, so the page renders the same from a CI artefact, an e-mail or a file
share years later. Every text goes through ``html.escape``; the page is masked
as a whole where it is written (``plugin/output.py``).
"""

from __future__ import annotations

import html
from typing import Any


VERDICT_CLASS = {
    "verified": "ok",
    "not provoked": "ok",
    "failed": "bad",
    "error": "bad",
    "not verified": "none",
    "partially verified": "none",
    "recognised": "known",
    "not covered": "drift",
    "stale": "drift",
    "message changed": "drift",
}

CSS = """
:root { --ok:#1a7f37; --ok-bg:#dafbe1; --bad:#cf222e; --bad-bg:#ffebe9; --none:#57606a; --none-bg:#eaeef2;
        --drift:#9a6700; --drift-bg:#fff8c5; --known:#0969da; --known-bg:#ddf4ff; --line:#d0d7de; --muted:#57606a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color:#1f2328; margin:0; background:#f6f8fa; }
main { max-width: 1160px; margin: 0 auto; padding: 0 16px 32px; }
header.banner { padding: 18px 24px; color: #fff; }
header.banner.passed { background: var(--ok); }
header.banner.failed { background: var(--bad); }
header.banner.incomplete, header.banner.interrupted { background: var(--drift); }
header.banner h1 { margin: 0 0 6px; font-size: 22px; }
header.banner p { margin: 0; }
.totals { display: flex; gap: 8px; flex-wrap: wrap; margin: 16px 0; }
.chip { border-radius: 999px; padding: 3px 12px; font-weight: 600; border: 1px solid transparent; }
.chip.ok, tr.ok td.verdict { background: var(--ok-bg); color: var(--ok); border-color: var(--ok); }
.chip.bad, tr.bad td.verdict { background: var(--bad-bg); color: var(--bad); border-color: var(--bad); }
.chip.none, tr.none td.verdict { background: var(--none-bg); color: var(--none); border-color: var(--none); }
.chip.known, tr.known td.verdict { background: var(--known-bg); color: var(--known); border-color: var(--known); }
.chip.drift, tr.drift td.verdict { background: var(--drift-bg); color: var(--drift); border-color: var(--drift); }
.chip.zero { opacity: .45; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background:#fff;
          border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 0 0 16px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; vertical-align: top; padding: 8px 10px; border-bottom: 1px solid var(--line); }
th { background: #eaeef2; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
td.verdict { font-weight: 700; white-space: nowrap; border-left: 6px solid; text-transform: uppercase; font-size: 12px; }
td.status { font-weight: 600; white-space: nowrap; }
.muted { color: var(--muted); font-size: 12px; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa;
       padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
ul.cases { list-style: none; margin: 6px 0 0; padding: 0; }
ul.cases li { margin: 0 0 6px; padding: 6px 8px; border-radius: 4px; background: #f6f8fa; overflow-wrap: anywhere; }
ul.cases li.failed { background: var(--bad-bg); }
ul.cases li.skipped, ul.cases li.not-run { background: var(--none-bg); }
.outcome { font-weight: 700; text-transform: uppercase; font-size: 11px; margin-right: 6px; }
.evidence { display: block; margin-top: 3px; }
p.legend { color: var(--muted); font-size: 12px; }
pre.details { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #fff;
              border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px; margin: 4px 0 0;
              white-space: pre-wrap; overflow-wrap: anywhere; }
h2 { font-size: 16px; margin: 24px 0 8px; }
dl.record { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0 0; font-size: 13px; }
dl.record dt { font-weight: 600; color: var(--muted); }
dl.record dd { margin: 0; overflow-wrap: anywhere; }
@media print { body { background: #fff; } header.banner { color: #000; border-bottom: 4px solid; } }
"""

LEGEND = (
    '<p class="legend">verified: every case ran and passed · not provoked: the 500 entry, which a faithful server '
    "never answers, was not seen (what was tried is listed) · failed: a case found the contract broken · error: the "
    "environment stopped a case (no answer, rate limited, a 5xx on a control) · not verified: skipped or not run "
    "(a skip is not a pass) · partially verified: some cases deselected · recognised: a status the contract "
    "documents and no case provokes, with what a run makes of it (never a failure) · not covered: documented on the "
    "errors page, absent from the catalog · stale: in the catalog, no longer on the errors page · message changed: "
    "the errors page's example gives another message than the entry checks.</p>"
)


def render_html(report: dict[str, Any]) -> str:
    """The page for a report built by ``json_report.build_report``."""
    result = report["result"]
    banner = result.lower()  # the CSS class; the word itself is shown as every output spells it
    totals = report["totals"]
    count = sum(totals.values())
    title = "Dfns error contract: %s" % result
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>%s</title>" % _e(title),
        "<style>%s</style></head><body>" % CSS,
        '<header class="banner %s"><h1>%s</h1><p>%s</p></header>' % (
            banner,
            _e(title),
            _e("%d documented errors of %s against %s, %s (pytest exit status %d)" % (
                count, "contract " + report["contract"]["version"] if report["contract"]["published"] else "a catalog of one's own",
                report["target"]["description"], report["finishedAt"], report["exitStatus"])),
        ),
        "<main>",
        '<div class="totals">%s</div>' % "".join(
            '<span class="chip %s%s">%d %s</span>' % (
                VERDICT_CLASS[verdict], "" if n else " zero", n, _e(verdict))
            for verdict, n in totals.items()
        ),
        _meta(report),
        _table(report["errors"]),
        LEGEND,
        _other_checks(report.get("otherChecks") or []),
        _cleanup(report.get("cleanup")),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _meta(report: dict[str, Any]) -> str:
    target = report["target"]
    versions = report["versions"]
    page = report["errorsPage"]
    rows = [
        ("Target", target["description"] + (" · faults: " + ", ".join(target["faults"]) if target["faults"] else "")),
        ("Profile", _profile(target)),
        ("Started", report["startedAt"]),
        ("Finished", "%s (%.1f s)" % (report["finishedAt"], report["durationSeconds"])),
        ("Contract", _contract(report["contract"])),
        ("Catalog", _source(report["catalog"])),
        ("Errors page", _source(page) + ("; unreadable entries: " + "; ".join(page["problems"]) if page["problems"] else "")
         if page else "not compared (no --dfns-errors-doc): drift unknown"),
        ("Versions", "Python %s · pytest %s · dfns-contract %s" % (versions["python"], versions["pytest"], versions["dfnsContract"])),
    ]
    return '<dl class="meta">%s</dl>' % "".join("<dt>%s</dt><dd>%s</dd>" % (_e(k), _e(v)) for k, v in rows)


def _contract(contract: dict[str, Any]) -> str:
    if contract["published"] and contract.get("detected"):
        return "%s, detected (--dfns-contract auto): %s" % (contract["version"], contract["detected"])
    if contract["published"]:
        return "%s, %s as published (copy: %s)" % (contract["version"], contract["doc"], contract["page"])
    return "none: a catalog of one's own (--dfns-catalog; it says version %s)" % contract["version"]


def _profile(target: dict[str, Any]) -> str:
    text = target["profile"] or ("the embedded server's own" if target["kind"] == "embedded" else "DFNS_* variables only")
    if target["envOverrides"]:
        text += " · overridden from DFNS_*: " + ", ".join(target["envOverrides"])
    return text


def _source(source: dict[str, Any]) -> str:
    if not source.get("path"):
        return "none"
    return "%s (sha256 %s…)" % (source["path"], (source.get("sha256") or "unknown")[:12])


def _table(errors: list[dict[str, Any]]) -> str:
    head = "<thead><tr><th>Verdict</th><th>HTTP</th><th>Documented error</th><th>Cases and evidence</th></tr></thead>"
    return "<table>%s<tbody>%s</tbody></table>" % (head, "".join(_row(error) for error in errors))


def _row(error: dict[str, Any]) -> str:
    where = [error["section"]] + ([error["id"]] if error["id"] else []) + (
        ["errors page line %d" % error["page"]["line"]] if error["page"] else [])
    message = "<code>%s</code>" % _e(error["message"]) if error["message"] is not None else \
        '<span class="muted">(no message documented)</span>'
    about = "<strong>%s</strong><div class=\"muted\">%s</div>%s" % (_e(error["summary"]), _e(" · ".join(where)), message)
    if error["page"] and error["page"]["summary"] != error["summary"] \
            and not error["section"].endswith(error["page"]["summary"]):  # today's page titles the status only
        about += '<div class="muted">titled on the page: %s</div>' % _e(error["page"]["summary"])
    cases = [case for case in error["cases"] if case["outcome"] != "passed"]
    listing = '<ul class="cases">%s</ul>' % "".join(_cases(cases, error["detail"])) if cases else ""
    return '<tr class="%s"><td class="verdict">%s</td><td class="status">%s</td><td>%s</td><td>%s%s</td></tr>' % (
        VERDICT_CLASS[error["verdict"]], _e(error["verdict"]), _e(error["status"]), about, _e(error["detail"]), listing)


def _cases(cases: list[dict[str, Any]], detail: str) -> list[str]:
    """Each case that did not pass; skipped cases that share a reason are one item, with their count and names
    (the reason itself only where the row's detail does not already say it)."""
    items, skipped = [], group_skips(cases)
    for case in cases:
        if case["outcome"] != "skipped" or not case["skipReason"]:
            items.append(_case(case))
        elif case["skipReason"] in skipped:
            names, reason = skipped.pop(case["skipReason"]), case["skipReason"]
            items.append('<li class="skipped"><span class="outcome">skipped ×%d</span>%s'
                         '<span class="evidence muted">%s</span></li>' % (
                             len(names), "" if reason in detail else _e(reason), _e(", ".join(names))))
    return items


def group_skips(cases: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Skip reason → the names of the cases it skipped, in the order they came."""
    groups: dict[str, list[str]] = {}
    for case in cases:
        if case["outcome"] == "skipped" and case["skipReason"]:
            groups.setdefault(case["skipReason"], []).append(_case_name(case["nodeid"]))
    return groups


def _other_checks(checks: list[dict[str, Any]]) -> str:
    """The replay model and the other tests that exercise documented errors without counting towards them."""
    if not checks:
        return ""
    rows = "".join(
        '<tr class="%s"><td class="verdict">%s</td><td><code>%s</code><div class="muted">exercises %s</div></td>'
        '<td>%s%s</td></tr>' % (
            {"passed": "ok", "failed": "bad", "error": "bad"}.get(check["outcome"], "none"), _e(check["outcome"]),
            _e(check["nodeid"]), _e(", ".join(check["exercises"])),
            _records(check.get("failures") or []) or ("" if check["details"] else _e(check["failure"] or "")),
            '<pre class="details">%s</pre>' % _e(check["details"]) if check["details"] else "")
        for check in checks)
    return ("<h2>Other checks: fuzzing and the replay model</h2>"
            "<table><thead><tr><th>Outcome</th><th>Test</th><th>Failure</th></tr></thead><tbody>%s</tbody></table>" % rows)


CLEANUP_CLASS = {"put back": "ok", "found as it should be": "ok", "not restored": "bad",
                 "created irreversibly": "known", "held for approval": "known"}


def _cleanup(cleanup: dict[str, Any] | None) -> str:
    """What the run changed on the target and what became of it: a not restored change is red."""
    if not cleanup:
        return ""
    rows = "".join('<tr class="%s"><td class="verdict">%s</td><td>%s</td></tr>' % (
        CLEANUP_CLASS[change["outcome"]], _e(change["outcome"]), _e(change["line"])) for change in cleanup["changes"])
    table = ("<table><thead><tr><th>Outcome</th><th>Change</th></tr></thead><tbody>%s</tbody></table>" % rows
             if rows else "")
    return "<h2>Cleanup: state the run changed on the target</h2><p>%s</p>%s" % (_e(cleanup["summary"]), table)


def _case(case: dict[str, Any]) -> str:
    lines = ['<span class="outcome">%s</span><code>%s</code>' % (_e(case["outcome"]), _e(_case_name(case["nodeid"])))]
    if case["skipReason"]:
        lines.append('<span class="evidence">%s</span>' % _e(case["skipReason"]))
    if case.get("failures"):
        lines.append(_records(case["failures"]))
    elif case["failure"] and not case.get("details"):  # the details hold the failure whole
        lines.append('<span class="evidence">%s</span>' % _e(case["failure"]))
    if case["evidence"]:
        lines.append('<span class="evidence">%s</span>' % _e(describe_evidence(case["evidence"])))
    if case.get("details"):
        lines.append('<pre class="details">%s</pre>' % _e(case["details"]))
    return '<li class="%s">%s</li>' % (_e(case["outcome"].replace(" ", "-")), "".join(lines))


def _records(records: list[dict[str, Any]]) -> str:
    """Each failure record as a list of its fields: the same data the terminal and the JSON show, never re-read text."""
    return "".join(_record(record) for record in records)


def _record(record: dict[str, Any]) -> str:
    fields: list[tuple[str, str]] = [("failure" if record["kind"] == "contract" else "environment error",
                                      _e(record["title"]))]
    if record["doc"]:
        fields.append(("doc", _e(record["doc"])))
    expected, actual = record["expected"], record["actual"]
    if expected is not None:
        fields.append(("expected", "%s <span class=\"muted\">(message: %s)</span>" % (
            _e(expected["text"]), _e(expected["messageText"]))))
    if actual is not None:
        got = "HTTP %s" % actual["status"] if actual["status"] is not None else "no answer"
        if actual["contentType"] is not None:
            got += ", Content-Type %s" % (actual["contentType"] or "(none)")
        if actual["message"] is not None:
            got += ", message %s" % _quoted(actual["message"])
        elif actual["head"] is not None:
            got += ", body %s" % _quoted(actual["head"])
        fields.append(("actual", _e(got)))
    if record["differed"]:
        fields.append(("differed", "<strong>%s</strong>" % _e(", ".join(record["differed"]))))
    if record["drawn"] is not None:
        fields.append(("drawn", "<code>%s</code>" % _e(record["drawn"])))
    for problem in record["problems"]:
        fields.append(("problem", _e(problem)))
    if record["curl"]:
        fields.append(("request", "<code>%s</code>" % _e(record["curl"])))
    return '<dl class="record">%s</dl>' % "".join("<dt>%s</dt><dd>%s</dd>" % field for field in fields)


def describe_evidence(evidence: dict[str, Any]) -> str:
    """``got HTTP 401 application/json "Not Authorized." · expected HTTP 400 "…"`` in one line."""
    got = "HTTP %s %s" % (evidence["status"], evidence["contentType"] or "(no Content-Type)")
    if evidence["message"] is not None:
        got += " %s" % _quoted(evidence["message"])
    else:
        got += ", %s: %s" % (evidence["body"], _quoted(evidence.get("excerpt", "")))
    expected = evidence["expected"]
    wanted = "any 5xx" if expected["status"] is None else "HTTP %s" % expected["status"]
    # A version that documents no message (2026) checks that there is one: never show "None".
    message = expected.get("messageText") or (_quoted(expected["message"]) if expected["message"] is not None
                                              else "any non-empty message")
    text = "%s %s got %s · expected %s %s" % (
        evidence["request"], "(fault)" if evidence["stage"] == "fault" else "(last response)", got, wanted, message)
    if evidence.get("probeStatuses"):
        text += " · probes answered " + ", ".join(map(str, evidence["probeStatuses"]))
    if evidence.get("reason"):
        text += " · " + evidence["reason"]
    return text


def _case_name(nodeid: str) -> str:
    """``tests/test_documented_errors.py::test_documented_error[nonce-reused]`` → ``nonce-reused``."""
    name = nodeid.rsplit("::", 1)[-1]
    return name[name.index("[") + 1 : -1] if name.endswith("]") and "[" in name else name


def _quoted(text: str) -> str:
    return '"%s"' % text


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
