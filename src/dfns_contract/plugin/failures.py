"""Every failure of a suite test as records (``contract/failure_record.py``); a failed property, race or replay model
reads like a failed documented-error case, and says how to replay it.

The records travel on the report (``RECORDS``, a list of ``FailureRecord.as_data``; pytest-xdist carries it to
its controller, ``output.py`` masks it) and as a JUnit property (``JUNIT_PROPERTY``, each record's line): the
reporters render those fields, and never read a failure's text back. An environment's failure (a gateway's
502, a rate limit past its budget, no answer) is a record of kind ``environment``.

A replayed case fails with one paragraph (``contract/replay.py``): the case,
the doc section, expected against actual, the request as a ``curl`` and the
response. The fuzzing, race and replay-model tests raise the same
``ContractViolation`` (or an ``assert`` with the same text), but pytest showed
it inside a traceback through the test, the assertion helpers and
Hypothesis, with the repr of every fixture in the falsifying example. Here
such a failure becomes the paragraph, the example Hypothesis found (without
the fixtures) and the command that replays it: the node id, the fuzzing
budget and the run's seed (``fuzzing.py``) or, derandomized, nothing more
(the same examples every run), and the target, never a secret (the URL
without user info, the profile's path; the whole text is masked with the
report). A failure that is not the contract's (a bug of a test, a Hypothesis
health check) keeps its traceback, and so does every failure under
``--tb=long``, ``--tb=native`` or ``--full-trace``, with the command as a
section of its own.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import Any

import pytest

from dfns_contract.contract.catalog import Catalog
from dfns_contract.contract.failure_record import ENVIRONMENT, RECORDS_ATTRIBUTE, Actual, FailureRecord
from dfns_contract.contract.schemas import DEFAULT_CONTRACT
from dfns_contract.plugin.events import CASE_ARGUMENT
from dfns_contract.plugin.options import Settings
from dfns_contract.plugin.stash import CATALOG

#: A Hypothesis note this module replaces with the command (its own advice names a decorator to add).
SEED_ADVICE = "You can reproduce this failure by adding @seed("
#: The report attributes this module sets (masked with the report, carried to a pytest-xdist controller).
DETAILS, REPLAY = "dfns_details", "dfns_replay"
#: Where a kept traceback's report shows the command.
REPLAY_SECTION = "dfns replay"
#: The report attribute holding a failed test's records (``FailureRecord.as_data`` each).
RECORDS = "dfns_failures"
#: The JUnit property (one per record) naming what failed in one line.
JUNIT_PROPERTY = "dfns_failure"
#: What an environment's failure says before its own line.
ENVIRONMENT_ERROR = "environment error, the contract was not checked: "
#: The notes of Hypothesis that list the drawn example (left out when the failure names the value it drew).
EXAMPLE_NOTES = ("Failing test case", "Falsifying example", "Draw ")


def describe_contract_failure(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport,
                              settings: Settings) -> None:
    """Replace the traceback of a suite test's contract failure by its paragraph, its example and its replay command."""
    about, doc = _about(item)
    if about is None or call.excinfo is None:
        return  # outside the suite
    replayed = getattr(call.excinfo.value, RECORDS_ATTRIBUTE, None)
    if replayed is not None:  # a replayed case: its paragraph is its records' (``contract/replay.py``)
        attach(item, report, replayed)
    if _replays_a_case(item):
        return  # anything else failing a replayed case is not the suite's check: it keeps its traceback
    failures = contract_failures(call.excinfo.value)
    if not failures:
        return
    entry = _entry(item)
    records = [record_of(failure).about(case=item.name, entry=entry, doc=doc) for failure in failures]
    attach(item, report, records)
    command = replay_command(item, settings)
    error = call.excinfo.value
    group = error.message if isinstance(error, BaseExceptionGroup) else None  # "found 2 distinct failures", "flaky"
    text = failure_text(item.name, about, records, [getattr(f, "__notes__", []) for f in failures],
                        set(item.fixturenames), command, group=group)
    setattr(report, REPLAY, command)
    setattr(report, DETAILS, text)  # for the reports and the event stream, whatever the terminal shows
    if item.config.option.tbstyle in ("long", "native") or item.config.option.fulltrace:
        report.sections.append((REPLAY_SECTION, command))
    else:
        report.longrepr = text


def describe_environment_failure(item: pytest.Item, failure: BaseException, report: pytest.TestReport) -> None:
    """The environment's failure as one record of kind ``environment`` (status, content type and head of what
    answered, else what happened to the request), its paragraph the report's text."""
    record = environment_record(failure).about(case=item.name if _about(item)[0] else None, entry=_entry(item))
    attach(item, report, [record])
    report.longrepr = record.text()


def environment_record(failure: BaseException) -> FailureRecord:
    """What stopped the request, as data: a gateway's answer, a rate limit, no answer, a request not sent."""
    exchange = getattr(failure, "exchange", None)
    headline = getattr(failure, "line", None) or (str(failure).splitlines() or [type(failure).__name__])[0]
    notes = tuple(getattr(failure, "notes", ()))
    if exchange is None:
        return FailureRecord(ENVIRONMENT_ERROR + headline, kind=ENVIRONMENT, curl=getattr(failure, "curl", None),
                             notes=notes)
    head = getattr(failure, "head", None)
    if head is None:
        head = exchange.text[:200]
    actual = Actual(exchange.status, None, exchange.content_type, head)
    return FailureRecord(ENVIRONMENT_ERROR + headline, kind=ENVIRONMENT, actual=actual, curl=exchange.curl(),
                         notes=notes)


def attach(item: pytest.Item, report: pytest.TestReport, records: Sequence[FailureRecord]) -> None:
    """The records on the report (for the reporters, the event stream, a pytest-xdist controller) and one JUnit
    property each (the teardown report, which JUnit reads, copies the item's properties)."""
    setattr(report, RECORDS, [record.as_data() for record in records])
    for record in records:
        item.user_properties.append((JUNIT_PROPERTY, record.line()))


def records_on(report: Any) -> list[FailureRecord]:
    """The records a report carries (none for a failure that is not the suite's: a bug of a test)."""
    return [FailureRecord.from_data(data) for data in getattr(report, RECORDS, None) or []]


def record_of(failure: AssertionError) -> FailureRecord:
    """A violation's record; a plain ``assert`` (a race's count) keeps its text as the record's title."""
    record = getattr(failure, "record", None)
    if isinstance(record, FailureRecord):
        return record
    return FailureRecord(_violation(failure))


def contract_failures(error: BaseException) -> list[AssertionError]:
    """The contract's failures in ``error`` (several when Hypothesis found distinct ones); empty when it is not one."""
    if isinstance(error, AssertionError):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        found = [contract_failures(inner) for inner in error.exceptions]
        if all(found):
            return [failure for group in found for failure in group]
    return []


def failure_text(name: str, about: str, records: Sequence[FailureRecord], notes: Sequence[Sequence[str]],
                 fixtures: set[str], command: str, *, group: str | None = None) -> str:
    """The case, each record's paragraph (doc, expected, actual, differed, drawn value, curl, response), the
    example Hypothesis drew, the replay command.

    ``notes``: Hypothesis' notes of each failure; the example that lists a whole batch is left out when the
    record names the value that failed (each drawn value is shown once). ``group``: what Hypothesis said of
    several failures together (distinct failures, a flaky one).
    """
    parts = ["[%s] the contract is broken (%s)" % (name, about)]
    if group:
        parts.append("  hypothesis: " + group)
    for number, (record, noted) in enumerate(zip(records, notes, strict=True), 1):
        if len(records) > 1:
            parts.append("failure %d of %d:" % (number, len(records)))
        parts.append(record.text())
        example = [_without_fixtures(note, fixtures) for note in noted if not note.startswith(SEED_ADVICE)
                   and not (record.drawn is not None and note.startswith(EXAMPLE_NOTES))]
        if example:
            parts.append("  example:\n" + _at_most(EXAMPLE_LIMIT, "\n".join(
                "    " + line for note in example for line in note.splitlines())))
    parts.append("  replay:   " + command)
    return "\n".join(parts)


def replay_command(item: pytest.Item, settings: Settings) -> str:
    """``pytest NODEID`` with the fuzzing budget, the seed and the target the run had (never a secret)."""
    args = ["pytest", item.nodeid]
    fuzzing = item.config.pluginmanager.get_plugin("dfns-fuzzing")
    if fuzzing is not None and _uses_hypothesis(item):
        args += ["--dfns-hypothesis-profile", fuzzing.profile]
        if fuzzing.seed is not None:
            args.append("--hypothesis-seed=%s" % fuzzing.seed)
    if settings.base_url:
        args += ["--base-url", settings.shown_url or ""]
    if settings.profile_path:
        args += ["--dfns-profile", settings.profile_path]
    for fault in settings.faults:
        args += ["--dfns-mock-fault", fault]
    if settings.catalog_path:
        args += ["--dfns-catalog", settings.catalog_path]
    elif settings.contract != DEFAULT_CONTRACT:
        args += ["--dfns-contract", settings.contract]
    if settings.allow_destructive:
        args.append("--dfns-allow-destructive")
    args.append("--dfns-allow-incomplete")  # one test leaves the run INCOMPLETE: exit 0 means it passed
    command = " ".join(shlex.quote(arg) for arg in args)
    overridden = settings.profile.overridden if settings.profile is not None else ()
    if overridden:
        command += "  (with the same DFNS_* variables: %s)" % ", ".join(overridden)
    return command


def _about(item: pytest.Item) -> tuple[str | None, str | None]:
    """What the test checks (the documented error it counts towards, or those it exercises; None outside the
    suite) and where the page documents the error it counts towards."""
    catalog: Catalog | None = item.config.stash.get(CATALOG, None)
    counts = item.get_closest_marker("documented_error")
    if counts is not None and catalog is not None and counts.args[0] in catalog:
        return "documented error %s" % counts.args[0], catalog.by_id(counts.args[0]).doc_reference
    exercised = [error_id for marker in item.iter_markers("exercises") for error_id in marker.args]
    return ("exercises %s" % ", ".join(exercised) if exercised else None), None


def _replays_a_case(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and CASE_ARGUMENT in callspec.params


def _entry(item: pytest.Item) -> str | None:
    """The documented error the test counts towards (its replayed case's, or its marker's)."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get(CASE_ARGUMENT) if callspec is not None else None
    if case is not None:
        return case.error.id
    counts = item.get_closest_marker("documented_error")
    return counts.args[0] if counts is not None else None


def _uses_hypothesis(item: pytest.Item) -> bool:
    function = getattr(item, "function", None)
    return bool(getattr(function, "is_hypothesis_test", False)) or "dfns_hypothesis_settings" in item.fixturenames


def _violation(failure: AssertionError) -> str:
    """The failure's own text, without pytest's explanation of a plain ``assert`` (``assert 2 == 1``, ``+ where …``)."""
    lines = str(failure).splitlines()
    for index, line in enumerate(lines):
        if index and line.startswith("assert "):
            lines = lines[:index]
            break
    return "\n".join(lines) if lines else failure.__class__.__name__


#: Characters of Hypothesis' example a failure shows: a batch of 8 values, some of them 8 KB long, is not
#: read by anyone; the failing value is named above it, and the replay command draws the same batch again.
EXAMPLE_LIMIT = 3000


def _at_most(limit: int, text: str) -> str:
    """``text``, its middle left out (saying how much) when it is longer than ``limit``."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[-limit // 3:]
    return "%s\n    … (%d characters of the example left out: the replay command below draws it again)\n%s" % (
        head, len(text) - len(head) - len(tail), tail)


_ENTRY = re.compile(r"^    (\w+)=")
_CLOSING = re.compile(r"^    [)\]}]")


def _without_fixtures(note: str, fixtures: set[str]) -> str:
    """Hypothesis' example without the fixtures' reprs: only what it drew (``drawn=…``, ``pad=…``, the steps)."""
    kept, skipping = [], False
    for line in note.splitlines():
        entry = _ENTRY.match(line)
        if entry:
            skipping = entry.group(1) in fixtures
        elif not (line.startswith("     ") or _CLOSING.match(line)):
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept)
