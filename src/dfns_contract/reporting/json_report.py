"""The conformance report for release sign-off, as data: ``--dfns-contract-report`` (JSON).

The terminal table scrolls away; sign-off needs a file that says what was
tested, against which target, with which versions and catalog, and the verdict
and evidence of every documented error. The data is validated against
``schemas/report.json`` before it is written, so a consumer can rely on its
shape. ``html.py`` renders the same data as a page; the plugin writes both
(``plugin/reports.py``), masked, from the controller only.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from dfns_contract import __version__
from dfns_contract.contract import schemas
from dfns_contract.contract.catalog import DOCS_PAGE, Catalog
from dfns_contract.reporting.cleanup import cleanup_record
from dfns_contract.reporting.drift import Drift
from dfns_contract.reporting.verdicts import CaseRecord, OtherCheck, Row, totals

#: 3: ``result`` is spelt as in the terminal (PASSED…), INTERRUPTED added, ``cleanup`` added.
#: 4: each case and other check carries ``failures``, its failure records (``$defs/failureRecord``).
REPORT_VERSION = 4
SCHEMA = "report.json"


class ReportError(RuntimeError):
    """The report could not be built or written; the run fails with this sentence."""


def build_report(
    rows: list[Row],
    *,
    catalog: Catalog | None,
    drift: Drift | None,
    target: dict[str, Any],
    word: str,
    exit_status: int,
    started: datetime,
    seconds: float,
    others: Sequence[OtherCheck] = (),
    cleanup: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The report as data, checked against schemas/report.json (``ReportError`` if it is not)."""
    finished = datetime.now(UTC)
    data: dict[str, Any] = {
        "reportVersion": REPORT_VERSION,
        "result": word,
        "exitStatus": exit_status,
        "target": target,
        "startedAt": _timestamp(started),
        "finishedAt": _timestamp(finished),
        "durationSeconds": round(max(seconds, 0.0), 3),
        "versions": {"python": platform.python_version(), "pytest": pytest.__version__, "dfnsContract": __version__},
        "contract": {"version": catalog.version if catalog else None, "published": bool(catalog and catalog.published),
                     "doc": catalog.doc if catalog else DOCS_PAGE, "page": catalog.page if catalog else None,
                     "detected": catalog.detected if catalog else None},
        "catalog": {"path": catalog.source if catalog else None, "sha256": file_sha256(catalog.source) if catalog else None},
        "errorsPage": None if drift is None else _errors_page(drift),
        "totals": totals(rows),
        "errors": [_error(row) for row in rows],
        "otherChecks": [_other(check) for check in others],
        "cleanup": None if cleanup is None else cleanup_record(cleanup),
    }
    problems = schemas.problems(SCHEMA, data)
    if problems:
        raise ReportError("the report breaks schemas/%s (a bug of dfns-contract, please report it):\n  - %s"
                          % (SCHEMA, "\n  - ".join(problems)))
    return data


def public_url(url: str) -> str:
    """The URL without user info: ``https://user:secret@host`` must not reach a report."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = "[%s]" % host
    netloc = host + (":%d" % parts.port if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def describe_target(base_url: str | None, *, embedded: str, faults: list[str], profile_path: str | None,
                    env_overrides: list[str], server_contract: str | None = None) -> dict[str, Any]:
    """The report's ``target``: what was tested, never a secret (no user info in the URL)."""
    implementing = " implementing contract %s" % server_contract if server_contract else ""
    return {
        "kind": "live" if base_url else "embedded",
        "baseUrl": public_url(base_url) if base_url else None,
        "description": "%s (live)" % public_url(base_url) if base_url else embedded + implementing + " — not a live environment",
        "contract": None if base_url else server_contract,
        "faults": list(faults),
        "profile": profile_path,
        "envOverrides": list(env_overrides),
    }


def _errors_page(drift: Drift) -> dict[str, Any]:
    """The page compared with, its form, and (today's page) each changed message: which entry, old and new."""
    return {
        "path": drift.page.path, "sha256": drift.page.sha256, "problems": list(drift.page.problems),
        "format": drift.page.format,
        "changedMessages": [
            {"status": change.status, "id": change.error.id if change.error else None, "old": change.old,
             "new": change.message, "line": change.line} for change in drift.changed],
    }


def _recognised(row: Row) -> dict[str, Any] | None:
    """A recognised status's outcome class; None for any other row."""
    if row.recognised is None:
        return None
    return {"answer": row.recognised.answer, "outcome": row.outcome, "meaning": row.recognised.meaning, "seen": row.seen}


def _error(row: Row) -> dict[str, Any]:
    page = row.page_error
    return {
        "id": row.id,
        "section": row.section,
        "summary": row.summary,
        "status": row.status,
        "message": row.message,
        "verdict": row.verdict,
        "tested": row.tested,
        "detail": row.detail,
        "page": None if page is None else {"line": page.line, "summary": page.summary, "message": page.message},
        "cases": [_case(case) for case in row.cases],
        "recognised": _recognised(row),
    }


def _case(case: CaseRecord) -> dict[str, Any]:
    return {
        "nodeid": case.nodeid,
        "outcome": case.outcome,
        "skipReason": case.skip_reason,
        "evidence": case.evidence,
        "failure": case.failure,
        "details": case.details,
        "failures": list(case.records),
    }


def _other(check: OtherCheck) -> dict[str, Any]:
    return {"nodeid": check.nodeid, "exercises": check.exercises, "outcome": check.outcome,
            "failure": check.failure, "details": check.details, "failures": list(check.records)}


def file_sha256(path: str) -> str | None:
    """The file's sha256, or None when it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
