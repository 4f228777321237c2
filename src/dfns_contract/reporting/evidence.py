"""What a case's fault request got, next to what the page documents: the evidence in the reports.

Built where the case runs (``contract/replay.py`` hands the fault's exchange to
the recorder the plugin gives the test, ``dfns_evidence``), carried on the test report as ``report.dfns_evidence``
(pytest-xdist sends a report's attributes to the controller with it), masked
with the rest of the report (``plugin/output.py``), and read by the verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from dfns_contract.client import Exchange
from dfns_contract.contract.catalog import Case
from dfns_contract.contract.expectations import message_of
from dfns_contract.contract.failure_record import ANY_MESSAGE

#: The report attribute that carries a case's evidence.
ATTRIBUTE = "dfns_evidence"
EXCERPT = 200


def evidence(
    case: Case,
    expected_message: str,
    exchange: Exchange,
    *,
    stage: str,
    probes: Sequence[Exchange] = (),
    reason: str = "",
) -> dict[str, Any]:
    """What ``exchange`` got, next to what the page documents; small, JSON-ready.

    ``stage`` is "fault" for the fault request, "stopped" for the last response
    before the recipe stopped (a broken envelope or a failed preparatory step).
    """
    error = case.error
    try:
        body, parsed = exchange.response.json(), True
    except ValueError:
        body, parsed = None, False
    message = message_of(body)
    result: dict[str, Any] = {
        "stage": stage,
        "request": "%s %s" % (exchange.method, urlsplit(exchange.url).path),
        "status": exchange.status,
        "contentType": exchange.content_type,
        "body": "documented envelope" if isinstance(message, str) else "JSON without error.message" if parsed else "not JSON",
        "message": message if isinstance(message, str) else None,
        "expected": {"status": None if error.invariant else error.status, "message": expected_message,
                     "messageText": ANY_MESSAGE if expected_message is None else '"%s"' % expected_message},
    }
    if not isinstance(message, str):
        result["excerpt"] = exchange.text[:EXCERPT]
    if probes:
        result["probeStatuses"] = [probe.status for probe in probes]
    if error.invariant:
        # An error a faithful server never answers (the 500): verified only when a probe saw one.
        result["provoked"] = any(probe.status >= 500 for probe in probes)
    if reason:
        result["reason"] = reason.splitlines()[0][:EXCERPT]
    return result
