"""The run leaves the target as it found it: what it changes is undone at the end of the session.

The suite runs against a reference server started here, so the test can look
at the server's state afterwards. A plugin (``selftests/break_after_deactivate.py``)
breaks the run right after it deactivated ``otherAppId``: a failing case, a
``-x`` stop, a Ctrl-C, under pytest-xdist too. The session cleanup must switch
the app back on, and say so in one line.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from dfns_contract.contract.cleanup import Cleanup, CleanupFailed, KeepAppActive, undo_from_record
from dfns_contract.contract.journal import Journal, read_journal
from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.server.runner import RunningServer, start_server

from selftests.helpers.proxy import FORWARD, RESET, Action, Delay, Request, fault_proxy
from selftests.helpers.suite_runner import SuiteRun, run_suite, start_suite

BREAK = ("-p", "selftests.helpers.plugins.break_after_deactivate")
OWN_STATE = ("tests/test_documented_errors.py", "-k", "app-modifies-own-state")
INTERRUPTED = 2


@dataclass
class Snapshot:
    apps: dict[str, tuple[str, bool, bool]]
    principals: dict[str, tuple[str, bool, bool, int, str | None]]
    #: Each permission, whether it is archived; and each assignment in force.
    permissions: set[tuple[str, bool]]
    assignments: set[tuple[str, str]]


def snapshot(server: RunningServer) -> Snapshot:
    world = server.state.world
    return Snapshot(
        apps={a.app_id: (a.name, a.is_active, a.is_archived) for a in world.apps.values()},
        principals={
            p.principal_id: (p.username, p.is_active, p.is_registered, len(p.credentials),
                             p.registration.code if p.registration else None)
            for p in world.principals.values()
        },
        permissions={(p.permission_id, p.is_archived) for p in world.permissions},
        assignments={(a.permission_id, a.identity_id) for a in world.permissions.active_assignments()},
    )


def run_against(server: RunningServer, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> SuiteRun:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(server.profile))
    return run_suite("--base-url", server.url, "--dfns-profile", str(profile), *args, env=env)


def other_app_active(server: RunningServer) -> bool:
    return server.state.world.apps[server.profile["otherAppId"]].is_active


def assert_restored_other_app(server: RunningServer, run: SuiteRun) -> None:
    other = server.profile["otherAppId"]
    assert other_app_active(server), "otherAppId left deactivated:\n" + run.output[-3000:]
    assert "otherAppId %s: re-activated" % other in run.output, run.output[-3000:]
    assert "dfns cleanup: " in run.output and ", 0 not restored" in run.output, run.output[-3000:]


@pytest.mark.parametrize("how, args", [
    ("error", OWN_STATE),
    # Every case, one at a time, stopped at the first failure (a property would run its failing example again,
    # switching the app on itself; the whole suite at once is the test below).
    pytest.param("error", ("-x", "-k", "test_documented_error", "--dfns-concurrency", "1"), marks=pytest.mark.slow),
    ("interrupt", OWN_STATE),
    ("error", (*OWN_STATE, "-n", "2")),
    ("interrupt", (*OWN_STATE, "-n", "2")),
    pytest.param("crash", (*OWN_STATE, "-n", "2"), marks=pytest.mark.slow),  # a crashed worker: the full tier
], ids=["failed-case", "stop-at-first-failure", "ctrl-c", "failed-case-xdist", "ctrl-c-xdist", "worker-crash-xdist"])
def test_a_run_broken_after_it_changed_state_puts_it_back(tmp_path, how, args):
    with start_server() as server:
        run = run_against(server, tmp_path, *BREAK, *args, env={"SELFTEST_BREAK": how})
        if how == "interrupt" and "-n" not in args:
            assert run.returncode == INTERRUPTED, run.output[-3000:]
        else:
            assert run.returncode != 0, run.output[-3000:]
        assert "right after PUT" in run.output or how != "error", run.output[-3000:]
        assert_restored_other_app(server, run)
        if how == "crash":
            assert re.search(r"\[controller, for gw\d+\] otherAppId", run.output), run.output[-3000:]


@pytest.mark.slow  # the whole suite; one case broken the same way is the fast tier's (above)
def test_a_run_at_once_stopped_at_its_first_failure_leaves_the_app_active(tmp_path):
    """The whole suite at once (the default concurrency), ``-x``, broken right after its first deactivation: the
    work already started ends (another test may switch the app on again first), and the app ends active."""
    with start_server() as server:
        run = run_against(server, tmp_path, *BREAK, "-x", env={"SELFTEST_BREAK": "error"})
        assert run.returncode != 0 and "right after PUT" in run.output, run.output[-3000:]
        other = server.profile["otherAppId"]
        assert other_app_active(server), "otherAppId left deactivated:\n" + run.output[-3000:]
        assert re.search(r"otherAppId %s: (re-activated|already active)" % other, run.output), run.output[-3000:]
        assert ", 0 not restored" in run.output, run.output[-3000:]


#: How long each request takes once the signal was sent: what made a worker's own cleanup too slow for
#: pytest-xdist's shutdown (it interrupts a worker after 5 s), so that only the journal could save the state.
SLOW_AFTER_SIGNAL = 2.0


#: Process signals with a proxy slowing every request after them: the full tier's.
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
@pytest.mark.parametrize("args", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_signal_to_the_process_group_right_after_a_deactivation_reached_the_target(tmp_path, signum, args):
    """As a terminal's Ctrl-C (SIGINT) or a CI runner's cancel (SIGTERM) does: every process of the run gets
    the signal at once, the moment the target has deactivated ``otherAppId`` (before the answer is back), and
    every request after it takes 2 s. The app must end active, and the cleanup section must say so."""
    with start_server() as server:
        signalled = threading.Event()
        run: dict[str, subprocess.Popen] = {}

        def slow_after_signal(request: Request) -> Action:
            return Delay(SLOW_AFTER_SIGNAL) if signalled.is_set() else FORWARD

        def signal_the_group(number: int, method: str, path: str, status: int) -> None:
            if method == "PUT" and path.endswith("/deactivate") and 200 <= status < 300 and not signalled.is_set():
                signalled.set()
                os.killpg(run["pytest"].pid, signum)

        with fault_proxy(server.url, slow_after_signal, on_forwarded=signal_the_group) as proxy:
            profile = tmp_path / "profile.json"
            profile.write_text(json.dumps(server.profile))
            run["pytest"] = start_suite("--base-url", proxy.url, "--dfns-profile", str(profile), *OWN_STATE, *args)
            stdout, stderr = run["pytest"].communicate(timeout=180)
        output = stdout + stderr
        assert signalled.is_set(), output[-3000:]
        assert run["pytest"].returncode == INTERRUPTED, output[-3000:]
        other = server.profile["otherAppId"]
        assert other_app_active(server), "otherAppId left deactivated:\n" + output[-3000:]
        assert "dfns cleanup (state the run changed on the target)" in output, output[-3000:]
        assert re.search(r"otherAppId %s: (re-activated|already active)" % other, output), output[-3000:]
        assert ", 0 not restored" in output, output[-3000:]
        assert "Traceback" not in output, output[-3000:]


def test_a_target_gone_after_the_change_leaves_a_line_saying_what_to_put_back(tmp_path):
    """The control of the test above: when no process can reach the target any more, the run says exactly
    what is left changed and how to put it back, and fails."""
    with start_server() as server:
        gone = threading.Event()

        def dead_after_change(request: Request) -> Action:
            return RESET if gone.is_set() else FORWARD

        def cut_the_network(number: int, method: str, path: str, status: int) -> None:
            if method == "PUT" and path.endswith("/deactivate") and 200 <= status < 300:
                gone.set()

        with fault_proxy(server.url, dead_after_change, on_forwarded=cut_the_network) as proxy:
            profile = tmp_path / "profile.json"
            profile.write_text(json.dumps(server.profile))
            run = run_suite("--base-url", proxy.url, "--dfns-profile", str(profile), *OWN_STATE)
        other = server.profile["otherAppId"]
    assert gone.is_set() and run.returncode == 1, run.output[-3000:]
    assert not other_app_active(server)
    assert re.search(r"NOT restored: otherAppId %s may be left inactive: .*; to put it back, activate it with "
                     r"PUT %s/auth/apps/%s/activate" % (other, re.escape(proxy.url), other), run.output), run.output[-3000:]
    assert re.search(r"dfns cleanup: the run fails because [1-9]\d* state changes? (was|were) not restored", run.output)


@pytest.mark.parametrize("args", [OWN_STATE, (*OWN_STATE, "-n", "2")], ids=["serial", "xdist"])
def test_a_state_change_not_restored_fails_a_green_run(tmp_path, args):
    """Every case passed, but the target was left changed: a CI gate must not turn green."""
    with start_server() as server:
        run = run_against(server, tmp_path, "-p", "selftests.helpers.plugins.cleanup_fails", *args)
    assert run.returncode == 1, run.output[-3000:]
    assert " passed" in run.output and " failed" not in run.output.splitlines()[-1], run.output[-3000:]
    assert "NOT restored: otherAppId" in run.output and "the target refuses" in run.output, run.output[-3000:]
    assert re.search(r"dfns cleanup: \d+ changes? checked: 0 put back, 0 found as it should be, [1-9]\d* not restored", run.output), run.output[-3000:]
    assert re.search(r"dfns cleanup: the run fails because [1-9]\d* state changes? (was|were) not restored", run.output), run.output[-3000:]


@pytest.mark.parametrize("faults", [[], pytest.param(["selfstate-off"], marks=pytest.mark.slow)],
                         ids=["faithful", "app-may-deactivate-itself"])
def test_a_whole_run_leaves_the_target_as_it_found_it(tmp_path, faults):
    """Nothing created, nothing left switched off, no user registered; also when the broken server
    lets the calling app switch itself off."""
    with start_server(faults=faults) as server:
        before = snapshot(server)
        run = run_against(server, tmp_path, "-n", "2")
        after = snapshot(server)
    assert run.returncode == (1 if faults else 0), run.output[-3000:]
    assert after == before
    # A green run that left nothing changed says so in one line; otherwise the section counts what it checked.
    assert re.search(r"^dfns cleanup: (nothing was left changed \(\d+ changes? checked\)"
                     r"|\d+ changes? checked: \d+ put back, \d+ found as it should be, 0 not restored)$",
                     run.output, re.MULTILINE), run.output[-3000:]
    assert "NOT restored" not in run.output, run.output[-3000:]


def test_names_of_created_things_carry_the_run_id():
    from dfns_contract.contract.recipes import RecipeContext

    ctx = RecipeContext(profile=None, client=None, run_id="dfns-contract-0a1b2c3d-gw1")  # type: ignore[arg-type]
    assert ctx.name("app") == "dfns-contract-0a1b2c3d-gw1-app"


# -- the registry itself ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeUndo:
    """An undo that records its calls: what the registry does with it, without a target."""

    key: str
    description: str
    calls: list
    fails: bool = False
    risk: str = "may be left changed"

    def restore(self, client: object) -> str:
        self.calls.append(self.key)
        if self.fails:
            raise CleanupFailed("HTTP 503\nmore detail")
        return "done"

    def by_hand(self, base_url: str) -> str:
        return "fix %s by hand" % self.key

    def to_record(self) -> dict:
        return {"kind": "fake", "key": self.key}


def test_undo_actions_run_once_last_registered_first_and_errors_are_one_line():
    calls: list[str] = []
    cleanup = Cleanup()
    cleanup.register(FakeUndo("a", "first thing", calls))
    cleanup.register(FakeUndo("b", "second thing", calls, fails=True))
    cleanup.register(FakeUndo("a", "first thing again", calls))  # same key: kept once
    cleanup.register(FakeUndo("c", "third thing", calls))
    lines = cleanup.run()
    assert lines == ["third thing: done",
                     "NOT restored: second thing may be left changed: HTTP 503; to put it back, fix b by hand",
                     "first thing: done"]
    assert calls == ["c", "b", "a"] and cleanup.failures == 1
    assert cleanup.run() == lines and calls == ["c", "b", "a"]
    cleanup.register(FakeUndo("d", "too late", calls))
    assert cleanup.run() == lines


def test_a_ctrl_c_during_the_cleanup_leaves_the_rest_pending_with_what_to_do(tmp_path):
    """A second Ctrl-C stops the cleanup: nothing more is sent, every undo left says how to do it by hand,
    and the journal keeps them pending for the controller."""
    calls: list[str] = []

    class Interrupted(FakeUndo):
        def restore(self, client: object) -> str:
            calls.append(self.key)
            raise KeyboardInterrupt

    journal = Journal(tmp_path, "gw0")
    cleanup = Cleanup(journal=journal)
    cleanup.register(FakeUndo("a", "first thing", calls))
    cleanup.register(Interrupted("b", "second thing", calls))
    lines = cleanup.run()
    assert calls == ["b"]
    assert lines == ["NOT restored: second thing may be left changed: interrupted (Ctrl-C) while it was being checked; "
                     "to put it back, fix b by hand",
                     "NOT restored: first thing may be left changed: not checked: the cleanup was interrupted (Ctrl-C); "
                     "to put it back, fix a by hand"]
    state = read_journal(tmp_path)
    assert [(c.process, c.key, c.restored) for c in state.changes] == [("gw0", "a", False), ("gw0", "b", False)]
    assert [c.key for c in state.pending()] == ["a", "b"]


def test_the_journal_is_written_before_the_change_and_survives_a_killed_writer(tmp_path):
    """Registered on disk before the caller goes on; a half-written last line (a killed process) is ignored;
    only a confirmed undo leaves the pending list."""
    calls: list[str] = []
    cleanup = Cleanup(journal=Journal(tmp_path, "main"))
    cleanup.register(FakeUndo("a", "first thing", calls))
    assert [c.key for c in read_journal(tmp_path).pending()] == ["a"]  # before anything ran
    Journal(tmp_path, "gw1").registered("b", {"kind": "fake"})
    with open(tmp_path / "gw1.jsonl", "a") as half:
        half.write('{"event": "finished", "key": "b", "li')
    cleanup.run()
    state = read_journal(tmp_path)
    assert [(c.process, c.key) for c in state.confirmed()] == [("main", "a")]
    assert [(c.process, c.key) for c in state.pending()] == [("gw1", "b")]


def test_an_undo_is_data_the_controller_can_read_back():
    undo = KeepAppActive("ap-1", "otherAppId", "ap-1")
    assert undo_from_record(json.loads(json.dumps(undo.to_record()))) == undo
    with pytest.raises(ValueError, match="unknown kind"):
        undo_from_record({"kind": "delete-everything"})


def test_an_unreachable_restore_is_reported_not_raised():
    """Against a server that refuses everything the undo cannot work: one masked line, no exception."""
    with start_server(faults=["reject-all"]) as server:
        p = server.profile
        client = DfnsClient(server.url, p["appId"], auth_token=p["authToken"], signer=KeySigner(p["credId"], p["privateKey"]))
        cleanup = Cleanup(client)
        cleanup.keep_app_active(p["otherAppId"], label="otherAppId")
        [line] = cleanup.run()
    assert line.startswith("NOT restored: otherAppId %s may be left inactive: GET as app %s answered HTTP 401; to put it back, "
                           "activate it with PUT %s/auth/apps/%s/activate" % (p["otherAppId"], p["appId"], server.url, p["otherAppId"])), line


@pytest.mark.parametrize("other_active", [True, False], ids=["other-on", "other-off"])
def test_the_other_app_is_read_as_itself_while_another_worker_has_the_calling_app_off(other_active):
    """On a server that lets an app deactivate itself, one worker's case may switch ``appId`` off just
    when another worker's session ends: that worker reads ``otherAppId`` as ``otherAppId`` instead."""
    with start_server() as server:
        p, apps = server.profile, server.state.world.apps
        client = DfnsClient(server.url, p["appId"], auth_token=p["authToken"], signer=KeySigner(p["credId"], p["privateKey"]))
        cleanup = Cleanup(client)
        cleanup.keep_other_app_active(p["otherAppId"])
        apps[p["appId"]].is_active = False  # what the other worker's case did on the broken server
        apps[p["otherAppId"]].is_active = other_active
        [line] = cleanup.run()
    if other_active:
        assert line == "otherAppId %s: already active" % p["otherAppId"]
    else:  # neither app may call: not restored here (the other worker's rescue puts appId back), and said so
        assert line.startswith("NOT restored: otherAppId %s may be left inactive: GET as app %s answered HTTP 401; GET as app %s answered HTTP 401"
                               % (p["otherAppId"], p["appId"], p["otherAppId"])), line
