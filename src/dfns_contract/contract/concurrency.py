"""Independent work at once: a property's batch of values, the replay model's walks, first uses.

Against a remote target each request is a round trip, and work that does not
depend on other work need not wait for it. ``at_once`` runs one function over
several items in threads, as many at once as the process may have requests on
their way (``--dfns-concurrency``, the client's ``in_flight``), each item's
requests one chain (``client/chains.py``). Its outcome does not depend on
which thread finished first: the results come back in the items' order, and
when items fail, the one reported is the first in that order, an environment
failure (the target did not answer: nothing was checked) before a broken
contract. With one request at a time it is a plain loop that stops at the
first failure, as the suite ran before.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from dfns_contract.client import DfnsClient, EnvironmentFailure
from dfns_contract.client.chains import CHAINS

T = TypeVar("T")
R = TypeVar("R")


def one_parse_at_a_time() -> None:
    """Before threads run Hypothesis: ``ast.parse`` from one thread at a time (CPython before 3.13).

    CPython 3.11 and 3.12 keep one recursion counter for every thread that turns
    source into an AST, so two threads parsing at once fail with ``SystemError:
    AST constructor recursion depth mismatch`` (CPython gh-106905). Hypothesis
    parses source when a state machine starts (``inspect.getsource`` of its
    class) and when it describes an example; so does ``inspect``. Idempotent.
    """
    if sys.version_info >= (3, 13) or getattr(ast.parse, "_one_at_a_time", False):
        return
    parse, lock = ast.parse, threading.Lock()

    @functools.wraps(parse)
    def parse_alone(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return parse(*args, **kwargs)

    parse_alone._one_at_a_time = True  # type: ignore[attr-defined]
    ast.parse = parse_alone


def lanes_of(client: DfnsClient) -> int:
    """How many pieces of independent work this process may run at once: its ``--dfns-concurrency`` share."""
    return client.in_flight.limit if client.in_flight is not None else 1


def at_once(client: DfnsClient, work: Callable[[T], R], items: Sequence[T], *,
            label: Callable[[int], str] = lambda index: "item %d" % index) -> list[R]:
    """``[work(item) for item in items]``, the items at once; raises what the first failing item raised."""
    lanes = min(lanes_of(client), len(items))
    if lanes <= 1:
        results = []
        for index, item in enumerate(items):
            with CHAINS.chain(label(index)):
                results.append(work(item))
        return results

    def chained(index: int, item: T) -> R:
        with CHAINS.chain(label(index)):
            return work(item)

    one_parse_at_a_time()
    pool = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="dfns-at-once")
    try:
        futures = [pool.submit(chained, index, item) for index, item in enumerate(items)]
        wait(futures)
    finally:  # also on Ctrl-C: what has not started never starts; what has, ends within its timeout
        pool.shutdown(wait=True, cancel_futures=True)
    raise_first_failure(futures)
    return [future.result() for future in futures]


def raise_first_failure(futures: Sequence[Future]) -> None:
    """Of finished futures, raise the first environment failure, else the first exception, in their order."""
    errors = [future.exception() for future in futures]
    failed = [error for error in errors if error is not None]
    for error in failed:
        if isinstance(error, EnvironmentFailure):
            raise error
    if failed:
        raise failed[0]
