"""What a run would do, before it is pointed anywhere: the documented errors with their cases, as data and as text.

``--dfns-list`` and ``--dfns-list-json`` (``plugin/listing.py``) collect the
suite as ``--co`` does and hand the tests here: each documented error of the
contract, the tests that count towards it (its replayed cases, a race, a fuzz
property) and those that only exercise it (the replay model), which of them
the selection (``-k``, ``-m``) keeps, the profile keys they need, the entry's
safety class, and whether this target would skip it; and the statuses the
contract recognises without a case (202, 402, 410…) with their outcome class,
so that every status of the page is listed. Nothing here sends a request. The
data validates against ``schemas/errors-list.json``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dfns_contract.contract import schemas
from dfns_contract.contract.binding import required_keys, skip_reason
from dfns_contract.contract.catalog import Catalog, DocumentedError, Recognised
from dfns_contract.reporting.json_report import ReportError, file_sha256, public_url
from dfns_contract.reporting.verdicts import RECOGNISED_OUTCOMES

LIST_VERSION = 1
SCHEMA = "errors-list.json"
#: What a destructive error's cases do on a sensitive target without --dfns-allow-destructive.
SENSITIVE_SKIP = "may change state on a sensitive target: pass --dfns-allow-destructive to run it"


@dataclass(frozen=True)
class ListedTest:
    """One collected test of the suite, as the list shows it."""

    nodeid: str
    case_id: str  # the replayed case's id (``-k`` takes it), else the test's name
    counts_for: str | None  # the documented error it is a case of (``documented_error`` marker)
    exercises: tuple[str, ...]  # errors it exercises without counting towards them
    selected: bool  # kept by -k / -m


@dataclass(frozen=True)
class ListTarget:
    """What the list says of the target, without contacting it."""

    base_url: str | None
    profile_path: str | None
    missing: Any  # a callable: profile keys -> the missing ones; None for the embedded server (it has them all)
    skips_destructive: bool  # a sensitive target without --dfns-allow-destructive


def build_list(catalog: Catalog, tests: Sequence[ListedTest], target: ListTarget, *, contract: str | None) -> dict[str, Any]:
    """The list as data, checked against schemas/errors-list.json (``ReportError`` if it is not)."""
    data = {
        "listVersion": LIST_VERSION,
        "contract": contract,
        "catalog": {"path": catalog.source, "sha256": file_sha256(catalog.source)},
        "target": {
            "kind": "live" if target.base_url else "embedded",
            "baseUrl": public_url(target.base_url) if target.base_url else None,
            "profile": target.profile_path,
            "contacted": False,
        },
        "tests": {"collected": len(tests), "selected": sum(test.selected for test in tests)},
        "errors": [_error(error, tests, target) for error in catalog.errors],
        "recognised": [_recognised(entry) for entry in catalog.recognised],
    }
    problems = schemas.problems(SCHEMA, data)
    if problems:
        raise ReportError("the list breaks schemas/%s (a bug of dfns-contract, please report it):\n  - %s"
                          % (SCHEMA, "\n  - ".join(problems)))
    return data


def _error(error: DocumentedError, tests: Sequence[ListedTest], target: ListTarget) -> dict[str, Any]:
    keys = required_keys(error)
    missing = list(target.missing(keys)) if target.missing is not None else None
    skip = None
    if error.changes_state and target.skips_destructive:
        skip = SENSITIVE_SKIP
    elif missing:
        skip = skip_reason(missing)
    return {
        "id": error.id,
        "section": error.section,
        "summary": error.summary,
        "status": error.status,
        "message": error.message,
        "doc": error.doc_reference,
        "safety": error.safety,
        "destructive": error.changes_state,
        "profileKeys": keys,
        "missingProfileKeys": missing,
        "skip": skip,
        "cases": [_test(test) for test in tests if test.counts_for == error.id],
        "exercisedBy": [_test(test) for test in tests if error.id in test.exercises],
    }


def _recognised(entry: Recognised) -> dict[str, Any]:
    return {"status": entry.status, "section": entry.section, "summary": entry.summary, "answer": entry.answer,
            "outcome": RECOGNISED_OUTCOMES.get(entry.answer, entry.answer), "meaning": entry.meaning}


def _test(test: ListedTest) -> dict[str, Any]:
    return {"id": test.case_id, "nodeid": test.nodeid, "selected": test.selected}


def plan_line(plan: dict[str, Any]) -> str:
    """What the run will spend: its request plan and, where measured, the requests of a serial default run."""
    cost = ("about %d requests a serial default run (measured on the reference server; each xdist worker sends "
            "its own shared controls)" % plan["requests"]) if plan.get("requests") else "cost not measured"
    why = ("a quota of 100 a window or less, or --dfns-hypothesis-profile trial" if plan["name"] == "trial"
           else "no small quota seen")
    return "request plan %s (%s; docs/request-budget.md): %s" % (plan["name"], why, cost)


def list_lines(data: dict[str, Any], *, width: int, verbosity: int) -> list[tuple[str, dict[str, bool]]]:
    """The list as terminal lines with their markup: one line per error at ``-q``, its cases under it otherwise."""
    lines: list[tuple[str, dict[str, bool]]] = []
    errors = data["errors"]
    recognised = data.get("recognised", [])
    widths = (max((len(error["id"]) for error in errors), default=0), max((len(_count(e)) for e in errors), default=0))
    if verbosity >= 0:
        target, tests = data["target"], data["tests"]
        where = "%s (live, not contacted)" % target["baseUrl"] if target["baseUrl"] else \
            "the embedded reference server (started by a run)"
        statuses = " and %d recognised statuses (no case)" % len(recognised) if recognised else ""
        lines.append(("%d documented errors%s, %d of %d tests selected · catalog %s · target %s" % (
            len(errors), statuses, tests["selected"], tests["collected"], data["catalog"]["path"], where), {}))
        if data.get("requestPlan"):
            lines.append((plan_line(data["requestPlan"]), {}))
    section = None
    for item in _by_status(errors, recognised):
        if verbosity >= 0 and item["section"] != section:
            section = item["section"]
            lines.append((section, {"bold": True}))
        if "answer" in item:
            lines += _recognised_lines(item, widths, verbosity)
        else:
            lines += _error_lines(item, widths, width, verbosity)
    return lines


def _by_status(errors: list[dict[str, Any]], recognised: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries in the catalog's order, or, with recognised statuses, every status in order (as the run's table)."""
    return sorted(errors + recognised, key=lambda item: item["status"]) if recognised else errors


def _recognised_lines(entry: dict[str, Any], widths: tuple[int, int], verbosity: int) -> list[tuple[str, dict[str, bool]]]:
    """A recognised status: no case, its outcome class, and (not at ``-q``) what it means."""
    label = "(recognised)"
    if verbosity < 0:
        return [("%-*s %d  recognised: %s" % (widths[0], label, entry["status"], entry["outcome"]), {})]
    return [("  %-*s %d recognised: %s" % (widths[0], label, entry["status"], entry["outcome"]), {}),
            ("      no case · %s" % entry["meaning"], {})]


def _count(error: dict[str, Any]) -> str:
    """``13 cases``, ``12 cases (1 deselected)``."""
    selected = sum(case["selected"] for case in error["cases"])
    count = "%d case%s" % (selected, "" if selected == 1 else "s")
    if selected != len(error["cases"]):
        count += " (%d deselected)" % (len(error["cases"]) - selected)
    return count


def _error_lines(error: dict[str, Any], widths: tuple[int, int], width: int,
                 verbosity: int) -> list[tuple[str, dict[str, bool]]]:
    selected = [case for case in error["cases"] if case["selected"]]
    id_width, count_width = widths
    count = _count(error)
    needs = "needs " + ", ".join(error["profileKeys"]) if error["profileKeys"] else "needs no profile key"
    if error["missingProfileKeys"]:
        needs += " (missing here: %s)" % ", ".join(error["missingProfileKeys"])
    sensitive = error["skip"] == SENSITIVE_SKIP
    markup = {"yellow": True} if error["skip"] or not selected else {}
    if verbosity < 0:
        line = "%-*s %d  %-17s %-*s %s" % (id_width, error["id"], error["status"], error["safety"], count_width, count, needs)
        return [(line + ("; " + SENSITIVE_SKIP if sensitive else ""), markup)]
    lines = [("  %-*s %d %s" % (id_width, error["id"], error["status"], _quoted(error["message"])), {})]
    lines.append(("      %s · %s · %s" % (error["safety"], count, needs), markup))
    if sensitive:
        lines.append(("      would be skipped here: " + SENSITIVE_SKIP, {"yellow": True}))
    lines += _wrapped("cases: ", [case["id"] for case in selected], width)
    lines += _wrapped("also exercised by: ", [test["id"] for test in error["exercisedBy"] if test["selected"]], width)
    return lines


def _wrapped(label: str, names: list[str], width: int) -> list[tuple[str, dict[str, bool]]]:
    if not names:
        return []
    text = textwrap.wrap(label + ", ".join(names), width=max(width - 1, 40), initial_indent="      ",
                         subsequent_indent="        ", break_long_words=False, break_on_hyphens=False)
    return [(line, {}) for line in text]


def _quoted(text: str | None) -> str:
    """The message as the list shows it; a version that documents none (2026's ``null``) says so, not ``"None"``."""
    return '"%s"' % text if text is not None else "(no message documented: any non-empty one, recorded)"
