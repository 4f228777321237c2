"""Secrets the run receives, and test reports that could show them.

``masking`` masks what it has been told about. Two things feed it here:

* ``remember_received``, an observer of every response: the tokens, challenge
  identifiers, user-action signatures and registration codes a Dfns API hands
  out are registered the moment they arrive, whatever the status, so a later
  failure message, curl or report that shows them is masked;
* ``mask_report``: failure messages built by the suite are masked where they
  are built, but a report holds more than that: pytest's traceback (source
  lines, the repr of each frame's arguments and, with ``--showlocals``, of its
  locals), Hypothesis' "Falsifying example" notes, captured output and logs,
  and user properties. The plugin walks each report once, as it is made, and
  masks every string in it: terminal, ``-rA`` summaries, JUnit XML and the
  contract reports all read the masked report. Under pytest-xdist this runs in
  the worker, which knows the secrets it received.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from .masking import SECRETS, mask

_MAX_DEPTH = 16

#: Response fields whose values are secrets, and the label they are masked with.
SECRET_FIELDS = {
    "token": "authToken",
    "temporaryAuthenticationToken": "temporaryAuthenticationToken",
    "challengeIdentifier": "challengeIdentifier",
    "userAction": "userAction",
    "registrationCode": "registrationCode",
    "accessToken": "authToken",
    "privateKey": "privateKey",
}


def remember_received(exchange: Any) -> None:
    """Observer: register the secret fields of a JSON response (any status), at any depth."""
    text = exchange.response.text
    if not any(name in text for name in SECRET_FIELDS):
        return
    try:
        body = exchange.response.json()
    except ValueError:
        return
    _remember(body, 0)


def _remember(value: Any, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_FIELDS and isinstance(item, str):
                SECRETS.add(item, SECRET_FIELDS[key])
            else:
                _remember(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _remember(item, depth + 1)


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
