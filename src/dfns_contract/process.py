"""What a pytest process of the suite costs at its start and at its end.

A serial run pays both once; ``-n 2`` pays them in the controller and again in
every worker, one after the other. On the 2-core machine they were larger than
the suite's own test work, so they decide whether ``-n 2`` gains anything.
"""

from __future__ import annotations

import atexit
import gc
import sys

#: Import names whose modules pytest need not rewrite: dependencies of the suite
#: that register pytest plugins, and this package itself.
NOT_REWRITTEN: tuple[str, ...] = ("hypothesis", "_hypothesis_pytestplugin", "anyio", "xdist", "dfns_contract")

_EXIT_REGISTERED = False


def skip_assertion_rewriting(names: tuple[str, ...] = NOT_REWRITTEN) -> list[str]:
    """Keep pytest's assertion rewriting to the modules whose asserts a person reads.

    pytest rewrites the asserts of every module in the distribution of every
    installed plugin, so that a plugin's assertion helpers report like test
    code. Hypothesis, anyio and pytest-xdist ship plugins, so all their modules
    are parsed, rewritten and compiled at import, in every pytest process:
    pytest caches the result only where it may write bytecode, and CI images
    commonly set ``PYTHONDONTWRITEBYTECODE=1``. Measured: 0.8-1.2 s per
    process. None of these libraries' asserts is ever shown to a user of the
    suite (a contract failure is reported by the suite's own messages), and the
    test modules and conftest files are rewritten as before. Unmarked
    libraries are imported the ordinary way, from the bytecode pip compiled.

    This edits the hook's private set of marked names, so it checks the shape
    it expects and does nothing otherwise: a pytest that changed it runs as
    before, only slower. Modules imported before the call stay as they were.
    Returns the names it unmarked.
    """
    hook = next((finder for finder in sys.meta_path if type(finder).__name__ == "AssertionRewritingHook"), None)
    marked = getattr(hook, "_must_rewrite", None)
    cache = getattr(hook, "_marked_for_rewrite_cache", None)
    if not isinstance(marked, set) or not isinstance(cache, dict):
        return []
    unmarked = sorted(marked.intersection(names))
    marked.difference_update(unmarked)
    cache.clear()
    return unmarked


def exit_without_freeing_the_heap() -> None:
    """At interpreter exit, leave the heap to the operating system instead of collecting it.

    Interpreter shutdown clears every module and runs the cyclic garbage
    collector over what that frees: 0.15-0.2 s, measured, after the last line
    of output of a pytest process holding hypothesis, requests, starlette and
    the suite. Under pytest-xdist each worker pays it before the controller
    can finish, then the controller does. ``gc.freeze()`` at exit moves every
    object out of the collector's reach, so the final collections have nothing
    to walk. Everything with an explicit end still runs: ``atexit`` handlers,
    ``weakref.finalize``, the flush of the standard streams, and the release
    of every object freed by reference counting. What it skips is destructors
    of objects only a collection would have freed, which Python does not
    promise to run at exit anyway.

    Registered with ``atexit`` (once), so it acts at the real end of the
    process, not at the end of an in-process pytest run (pytester), whose host
    goes on running.
    """
    global _EXIT_REGISTERED
    if not _EXIT_REGISTERED:
        _EXIT_REGISTERED = True
        atexit.register(gc.freeze)


def freeze_what_is_loaded() -> None:
    """In an xdist worker, once collected: keep the collector off what imports and collection built.

    That heap (pytest, hypothesis, requests, the suite: some 80,000 objects) lives
    until the process ends, yet every full collection walks it: each of the two
    pytest runs when the session ends (to report unraisable exceptions) took
    about 40 ms, between the worker's last case and the controller's end. Frozen,
    it is skipped; what the tests create is collected as before, unraisable
    exceptions included. Only for a worker: it is a process of its own that
    ends with its session, whereas a session run in-process (pytester) returns
    to a host whose objects a freeze would keep from ever being collected.
    """
    gc.freeze()
