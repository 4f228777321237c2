"""The one place that masks what a run shows: every text that leaves it goes through here.

A run shows a person (or a file, or another process) four kinds of thing, and
each is masked here, by value, with what ``client/secrets.py`` knows:

* test reports (``mask_report``): the failure messages the suite builds, and
  what pytest adds to them: the traceback (source lines, the repr of each
  frame's arguments and, with ``--showlocals``, of its locals), Hypothesis'
  "Falsifying example" notes, captured output and logs, user properties and
  the suite's own report attributes (evidence). The plugin masks each report
  once, as it is made, before any reporter sees it: terminal, ``-rA``, JUnit
  XML and the contract reports all read the masked report. Under pytest-xdist
  this runs in the worker, which knows the secrets it received;
* the terminal summary (``MaskedTerminal``): the documented-errors table,
  the cleanup lines, the fuzzing counts;
* report files (``write_file``): the JSON and HTML conformance reports;
* what a pytest-xdist worker hands its controller outside a report
  (``mask_lines``): its cleanup lines.

A report is masked after pytest wrote it, and pytest shortens what it writes:
a long repr keeps its two ends around ``...``, a diff skips what two strings
share, an explanation stops after 640 characters. A secret cut that way is
not the secret any more. So ``mask_before_truncating`` makes pytest mask each
of those texts before it cuts it, for the suite's run only; and ``mask``
itself masks any piece of a secret of 16 characters or more, whatever cut it.

The modules that build texts (client, contract, reporting) never mask: adding
an output means routing it through one of these, nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from dfns_contract.client.secrets import HTML_PLACEHOLDER, PLACEHOLDER, mask
from dfns_contract.plugin import internals

__all__ = ["MaskedTerminal", "mask", "mask_before_truncating", "mask_lines", "mask_report", "write_file"]

_MAX_DEPTH = 16
#: Report attributes the suite adds (evidence); masked like the rest of the report.
SUITE_ATTRIBUTE_PREFIX = "dfns_"


def mask_before_truncating(config: pytest.Config) -> None:
    """Until the run ends, pytest masks a repr, a diff or an explanation before it cuts it.

    Called by the suite's activation, in every process of the run (the
    reprs are made where the case fails); another project's run is left as it was.
    """
    config.add_cleanup(internals.mask_before_truncating(mask).undo)


def mask_report(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Mask, in place, the traceback, captured sections and user properties of ``report``."""
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        report.longrepr = mask(longrepr)
    elif isinstance(longrepr, tuple):  # a skip: (path, lineno, reason)
        report.longrepr = tuple(mask(part) if isinstance(part, str) else part for part in longrepr)  # type: ignore[assignment]
    elif longrepr is not None:
        try:
            _mask_in_place(longrepr, 0)
        except Exception:  # noqa: BLE001 - an unknown shape: keep its text only, masked
            report.longrepr = mask(str(longrepr))
    report.sections = [(title, mask(content)) for title, content in report.sections]
    properties = getattr(report, "user_properties", None)
    if properties:
        report.user_properties = [(name, _mask_value(value, 0)) for name, value in properties]
    for name, value in list(vars(report).items()):
        if name.startswith(SUITE_ATTRIBUTE_PREFIX):
            setattr(report, name, _mask_value(value, 0))


def _mask_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return mask(value)
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, list):
        value[:] = [_mask_value(item, depth + 1) for item in value]
        return value
    if type(value) is tuple:
        return tuple(_mask_value(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return {key: _mask_value(item, depth + 1) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _mask_in_place(value, depth)
    return value


def _mask_in_place(obj: Any, depth: int) -> None:
    """Every string field of pytest's repr dataclasses (ReprEntry lines, ReprFuncArgs, crash message, ...)."""
    if not dataclasses.is_dataclass(obj):
        raise TypeError("not a dataclass: %s" % type(obj).__name__)
    for spec in dataclasses.fields(obj):
        old = getattr(obj, spec.name)
        new = _mask_value(old, depth + 1)
        if new is not old:
            object.__setattr__(obj, spec.name, new)


class MaskedTerminal:
    """The terminal reporter's writing methods, every text masked: what the summary sections use."""

    def __init__(self, terminalreporter: pytest.TerminalReporter) -> None:
        self._tr = terminalreporter

    def section(self, title: str, **markup: bool) -> None:
        self._tr.section(mask(title), **markup)

    def write(self, text: str, **markup: bool) -> None:
        self._tr.write(mask(text), **markup)

    def write_line(self, text: str, **markup: bool) -> None:
        self._tr.write_line(mask(text), **markup)


def mask_lines(lines: Iterable[str]) -> list[str]:
    """Lines that leave this process another way than a report (a worker's cleanup lines)."""
    return [mask(line) for line in lines]


def write_file(path: Path, text: str, *, html: bool = False) -> None:
    """Write a report whole or not at all, masked: a half-written report must not pass for one.

    In an HTML page (``html``) a masked secret reads ``&lt;masked:label&gt;``, so
    the browser shows it rather than taking it for a tag. Raises ``OSError``
    (the caller says which report could not be written).
    """
    partial = path.with_name(path.name + ".partial")
    partial.write_text(mask(text, HTML_PLACEHOLDER if html else PLACEHOLDER), encoding="utf-8")
    partial.replace(path)

