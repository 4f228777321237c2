"""The suite's tests run ahead, at once, while pytest reports each in its turn.

Against a remote target a test is a few round trips that wait for each other
(a case's control, its signing flow and its fault; a property's batches; a
walk of the replay model), and the tests do not wait for each other. pytest
runs one test after another, and a test's fixtures cannot be set up for two
tests at once. So when this process's first test starts, each test it will
run that may run ahead is called in a pool of ``--dfns-concurrency`` threads,
with the fixture values it would get in its turn: the session's own, and the
few per-test ones this module knows how to make (``PER_TEST``: the case, its
recipe context, its evidence, its documented error, its example counter).
When pytest reaches the test, its call takes the outcome (``pytest_pyfunc_call``):
it passes, fails or errors with exactly what the function did, in its own
report, with its own evidence and counts. The run then lasts about as long as
its longest chain and its requests at ``--dfns-concurrency`` at once allow,
not the sum of its tests. The requests are bounded by ``--dfns-concurrency``
(``client/pacing.InFlight``) and the rate (``--dfns-rate-limit``). A request
that could, on a broken server, change what every other test sees (the app
deactivating itself) is sent alone (``RecipeContext.alone``), so the verdicts
do not depend on what ran beside it.

Not run ahead, and run in their turn as before:

* under pytest-xdist: a worker does not know which tests it will be handed;
* with ``--dfns-concurrency 1``;
* a test that is skipped (profile keys missing, not allowed on this target),
  or needs a fixture this module does not know (a new one is run in its turn
  until it is taught here);
* under ``--hypothesis-verbosity`` or ``--hypothesis-show-statistics``: a
  property shows Hypothesis' own output only in its turn;
* a test run again after a rate limit (``ratelimit.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

#: Per-test fixtures whose value this module makes for a test run ahead: name → (item, session values) → value.
PerTest = Callable[[pytest.Item, Mapping[str, Any]], Any]


def case_of(item: pytest.Item) -> Any:
    """The catalog ``Case`` a test is about (its ``dfns_case`` parameter), or None."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("dfns_case") if callspec is not None else None


class Counter:
    """A test's example counter, shared by its run ahead and its ``count_examples`` fixture; thread-safe."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            self.value += 1


COUNTER = pytest.StashKey[Counter]()


def counter_of(item: pytest.Item) -> Counter:
    return item.stash.setdefault(COUNTER, Counter())


def fixtures_known(item: pytest.Item, per_test: Iterable[str]) -> bool:
    """Every fixture of ``item`` is session-scoped, or a per-test one this module makes, or a parameter."""
    known = set(per_test)
    params = set(getattr(getattr(item, "callspec", None), "params", {}))
    definitions = item._fixtureinfo.name2fixturedefs  # noqa: SLF001 - pytest's own record of the item's fixtures
    for name in item._fixtureinfo.argnames:  # noqa: SLF001 - the arguments pytest passes the function
        if name in known or name in params:
            continue
        defs = definitions.get(name)
        if not defs or defs[-1].scope != "session":
            return False
    return True


class RunAhead:
    """This process's tests run ahead: their futures, by node id, each taken once by its test's call."""

    def __init__(self) -> None:
        self._futures: dict[str, Future] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._halt: Callable[[str], None] | None = None

    def start(self, items: Iterable[pytest.Item], call: Callable[[pytest.Item], None], lanes: int,
              halt: Callable[[str], None] | None = None) -> int:
        """Call each item in a pool of ``lanes`` threads, in the items' order; returns how many.

        ``halt(why)`` makes every later request of the run fail at once without
        being sent (``TargetGuard.halt``): called by ``stop`` when tests are
        still running, so that a Ctrl-C ends the run now.
        """
        self._halt = halt
        items = list(items)
        if not items or lanes <= 1:
            return 0
        from dfns_contract.contract.concurrency import one_parse_at_a_time

        one_parse_at_a_time()
        self._pool = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="dfns-ahead")
        for item in items:
            self._futures[item.nodeid] = self._pool.submit(call, item)
        return len(items)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        """The test's turn: if it ran ahead, what it did is its outcome (raised here, in its own report)."""
        future = self._futures.pop(pyfuncitem.nodeid, None)
        if future is None:
            return None
        future.result()
        return True

    def stop(self) -> None:
        """At the session's end, also on Ctrl-C or ``-x``: what has not started never starts; what is running
        sends nothing more and ends (each request on its way within its timeout), before the session's cleanup."""
        if self._pool is not None:
            if self._halt is not None and any(not future.done() for future in self._futures.values()):
                self._halt("the run is ending (Ctrl-C, -x or a failure) before this test's turn")
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()
