"""Where a replayed case leaves its evidence: the running test's user properties.

Apart from ``replay`` so that the conformance summary, which runs in the
pytest-xdist controller too, can bind and read evidence without importing the
client and its HTTP stack there (the controller runs no test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: Name of the user property that carries a case's evidence (a JSON object, masked).
EVIDENCE = "dfns_evidence"
EVIDENCE_EXCERPT = 200

Recorder = Callable[[str, str], None]
_RECORDER: ContextVar[Recorder | None] = ContextVar("dfns_evidence_recorder", default=None)


@contextmanager
def recording(user_properties: list[tuple[str, object]]) -> Iterator[None]:
    """While a test runs, ``replay`` appends its evidence to these user properties (the plugin binds the item's)."""
    token = _RECORDER.set(lambda name, value: user_properties.append((name, value)))
    try:
        yield
    finally:
        _RECORDER.reset(token)


def current_recorder() -> Recorder | None:
    """The recorder bound by ``recording`` around the running test, if any."""
    return _RECORDER.get()
