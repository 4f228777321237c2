"""The run leaves the target as it found it: what it changes is undone at the end of the session.

The suite runs against a reference server started here, so the test can look
at the server's state afterwards. A plugin (``selftests/break_after_deactivate.py``)
breaks the run right after it deactivated ``otherAppId``: a failing case, a
``-x`` stop, a Ctrl-C, under pytest-xdist too. The session cleanup must switch
the app back on, and say so in one line.
"""

from __future__ import annotations

import re

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from dfns_contract.contract.cleanup import Cleanup, CleanupFailed
from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.server.runner import RunningServer, start_server

from selftests.helpers.suite_runner import SuiteRun, run_suite

BREAK = ("-p", "selftests.helpers.plugins.break_after_deactivate")
OWN_STATE = ("tests/test_documented_errors.py", "-k", "app-modifies-own-state")
INTERRUPTED = 2


@dataclass
class Snapshot:
    apps: dict[str, tuple[str, bool, bool]]
    principals: dict[str, tuple[str, bool, bool, int, str | None]]
    permissions: set[str]


def snapshot(server: RunningServer) -> Snapshot:
    world = server.state.world
    return Snapshot(
        apps={a.app_id: (a.name, a.is_active, a.is_archived) for a in world.apps.values()},
        principals={
            p.principal_id: (p.username, p.is_active, p.is_registered, len(p.credentials),
                             p.registration.code if p.registration else None)
            for p in world.principals.values()
        },
        permissions=set(world.permissions),
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
    assert "otherAppId %s is active: re-activated" % other in run.output, run.output[-3000:]
    assert "dfns cleanup: " in run.output and ", 0 not restored" in run.output, run.output[-3000:]


@pytest.mark.parametrize("how, args", [
    ("error", OWN_STATE),
    ("error", ("-x",)),  # the whole suite, stopped at the first failure
    ("interrupt", OWN_STATE),
    ("error", (*OWN_STATE, "-n", "2")),
    ("interrupt", (*OWN_STATE, "-n", "2")),
], ids=["failed-case", "stop-at-first-failure", "ctrl-c", "failed-case-xdist", "ctrl-c-xdist"])
def test_a_run_broken_after_it_changed_state_puts_it_back(tmp_path, how, args):
    with start_server() as server:
        run = run_against(server, tmp_path, *BREAK, *args, env={"SELFTEST_BREAK": how})
        if how == "interrupt" and "-n" not in args:
            assert run.returncode == INTERRUPTED, run.output[-3000:]
        else:
            assert run.returncode != 0, run.output[-3000:]
        assert "right after PUT" in run.output or how == "interrupt", run.output[-3000:]
        assert_restored_other_app(server, run)


@pytest.mark.parametrize("args", [OWN_STATE, (*OWN_STATE, "-n", "2")], ids=["serial", "xdist"])
def test_a_state_change_not_restored_fails_a_green_run(tmp_path, args):
    """Every case passed, but the target was left changed: a CI gate must not turn green."""
    with start_server() as server:
        run = run_against(server, tmp_path, "-p", "selftests.helpers.plugins.cleanup_fails", *args)
    assert run.returncode == 1, run.output[-3000:]
    assert " passed" in run.output and " failed" not in run.output.splitlines()[-1], run.output[-3000:]
    assert "NOT restored: otherAppId" in run.output and "the target refuses" in run.output, run.output[-3000:]
    assert re.search(r"dfns cleanup: 0 state changes undone or checked, [1-9]\d* not restored", run.output), run.output[-3000:]
    assert re.search(r"dfns cleanup: the run fails because [1-9]\d* state changes? (was|were) not restored", run.output), run.output[-3000:]


@pytest.mark.parametrize("faults", [[], ["selfstate-off"]], ids=["faithful", "app-may-deactivate-itself"])
def test_a_whole_run_leaves_the_target_as_it_found_it(tmp_path, faults):
    """Nothing created, nothing left switched off, no user registered; also when the broken server
    lets the calling app switch itself off."""
    with start_server(faults=faults) as server:
        before = snapshot(server)
        run = run_against(server, tmp_path, "-n", "2")
        after = snapshot(server)
    assert run.returncode == (1 if faults else 0), run.output[-3000:]
    assert after == before
    assert "dfns cleanup: " in run.output and ", 0 not restored" in run.output, run.output[-3000:]


def test_names_of_created_things_carry_the_run_id():
    from dfns_contract.contract.recipes import RecipeContext

    ctx = RecipeContext(profile=None, client=None, run_id="dfns-contract-0a1b2c3d-gw1")  # type: ignore[arg-type]
    assert ctx.name("app") == "dfns-contract-0a1b2c3d-gw1-app"


# -- the registry itself ---------------------------------------------------------------------------


def test_undo_actions_run_once_last_registered_first_and_errors_are_one_line():
    calls = []
    cleanup = Cleanup()
    cleanup.register("a", "first thing", lambda: calls.append("a") or "done")
    cleanup.register("b", "second thing", lambda: (_ for _ in ()).throw(CleanupFailed("HTTP 503\nmore detail")))
    cleanup.register("a", "first thing again", lambda: calls.append("a2") or "done")  # same key: kept once
    cleanup.register("c", "third thing", lambda: calls.append("c") or "done")
    lines = cleanup.run()
    assert lines == ["third thing: done", "NOT restored: second thing: HTTP 503", "first thing: done"]
    assert calls == ["c", "a"] and cleanup.failures == 1
    assert cleanup.run() == lines and calls == ["c", "a"]
    cleanup.register("d", "too late", lambda: "done")
    assert cleanup.run() == lines


def test_an_unreachable_restore_is_reported_not_raised():
    """Against a server that refuses everything the undo cannot work: one masked line, no exception."""
    with start_server(faults=["reject-all"]) as server:
        p = server.profile
        client = DfnsClient(server.url, p["appId"], auth_token=p["authToken"], signer=KeySigner(p["credId"], p["privateKey"]))
        cleanup = Cleanup(client)
        cleanup.keep_app_active(p["otherAppId"], label="otherAppId")
        [line] = cleanup.run()
    assert line == "NOT restored: otherAppId %s is active: GET as app %s answered HTTP 401" % (p["otherAppId"], p["appId"])


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
        assert line == "otherAppId %s is active: already active" % p["otherAppId"]
    else:  # neither app may call: not restored here (the other worker's rescue puts appId back), and said so
        assert line.startswith("NOT restored: otherAppId %s is active: GET as app %s answered HTTP 401; GET as app %s answered HTTP 401"
                               % (p["otherAppId"], p["appId"], p["otherAppId"])), line
