"""What a pytest process of the suite costs at its start and at its end.

A serial run pays both once; ``-n 2`` pays them in the controller and again in
every worker, one after the other. On the 2-core machine they were larger than
the suite's own test work, so they decide whether ``-n 2`` gains anything.
"""

from __future__ import annotations

import atexit
import gc

_EXIT_REGISTERED = False


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


def interrupt_on_sigterm() -> None:
    """Make SIGTERM end the run as Ctrl-C does: the session finishes, the cleanup runs, the summary is written.

    A CI runner that cancels a job, a container that stops, ``timeout`` and
    ``kill`` send SIGTERM, whose default action ends the process at once: a
    state change the run made would stay on the target. pytest handles
    KeyboardInterrupt (exit status 2, the session's end still runs), so
    SIGTERM raises it. Only from the main thread (where Python delivers
    signals), and only while the default action is in place: a handler someone
    else installed is kept. ``restore_sigterm`` puts the default back.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def restore_sigterm() -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is _raise_keyboard_interrupt:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt("SIGTERM")
