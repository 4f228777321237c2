"""``dfns-contract bootstrap`` makes, from the admin keys alone, a profile the suite passes with, and
``teardown`` leaves the server as it was.

For each version a reference server is started; bootstrap gets only the admin keys of its profile (the rest
of the server's profile is thrown away), then the whole suite runs with what bootstrap wrote: every case
runs and passes but those skipped for the keys bootstrap listed as not creatable. The server's live state
(what is neither archived nor deleted: Dfns archives, it does not delete) is compared before bootstrap and
after teardown. Controls: a sensitive host without the flag, a missing admin key, a missing file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dfns_contract.bootstrap.cli import BAD_INPUT, main
from dfns_contract.server.runner import RunningServer, start_server

from selftests.helpers.suite_runner import run_suite

ADMIN_KEYS = ("authToken", "credId", "privateKey", "appId", "orgId", "appOrigin")
MISSING = re.compile(r"profile keys missing: ([A-Za-z, ]+) \(set them")


def live_state(server: RunningServer) -> dict[str, Any]:
    """What a user of the org sees as existing: apps, principals, permissions, assignments, wallets in use."""
    world = server.state.world
    return {
        "apps": {(a.app_id, a.is_active) for a in world.apps.values() if not a.is_archived},
        "principals": {(p.principal_id, p.is_active, p.is_registered, len(p.credentials))
                       for p in world.principals.values() if not p.is_archived},
        "permissions": {p.permission_id for p in world.permissions if not p.is_archived},
        "assignments": {(a.permission_id, a.identity_id) for a in world.permissions.active_assignments()},
        "wallets": {w.wallet_id for w in world.wallets.wallets.values() if w.date_deleted is None},
    }


def admin_file(server: RunningServer, tmp_path: Path, drop: str | None = None) -> Path:
    path = tmp_path / "admin.json"
    path.write_text(json.dumps({k: server.profile[k] for k in ADMIN_KEYS if k in server.profile and k != drop}))
    return path


def bootstrap(server: RunningServer, tmp_path: Path, version: str, *extra: str) -> tuple[int, Path]:
    out = tmp_path / "profile.json"
    code = main(["bootstrap", "--base-url", server.url, "--dfns-profile", str(admin_file(server, tmp_path)),
                 "--out", str(out), "--dfns-contract", version, *extra])
    return code, out


@pytest.mark.slow
@pytest.mark.parametrize("version", ["2024-08-19", "2024-08-19-extended", "2025-02-07", "2026"])
def test_bootstrap_from_admin_keys_then_the_suite_passes_and_teardown_restores(tmp_path, capsys, version):
    with start_server(contract=version) as server:
        before = live_state(server)
        code, out = bootstrap(server, tmp_path, version)
        printed = capsys.readouterr().out
        assert code == 0, printed
        profile = json.loads(out.read_text())
        assert server.profile["authToken"] not in printed and server.profile["privateKey"] not in printed
        absent = {key for entry in profile["bootstrap"]["absent"] for key in entry["keys"]}
        created = profile["bootstrap"]["created"]
        assert created and all(entry.get("id") or entry["kind"] == "archive-permission" for entry in created)
        assert live_state(server) != before  # the control: bootstrap did create something
        run = run_suite("--base-url", server.url, "--dfns-profile", str(out), "--dfns-contract", version, "-rs",
                        allow_incomplete=True)
        assert run.returncode == 0, run.output[-4000:]
        assert " failed" not in run.output.splitlines()[-1] and " error" not in run.output.splitlines()[-1], \
            run.output[-2000:]
        skips = [line for line in run.output.splitlines() if line.startswith("SKIPPED")]
        needing = {key.strip() for line in skips for found in MISSING.findall(line) for key in found.split(",")}
        assert all(MISSING.search(line) for line in skips), "\n".join(skips)
        assert needing <= absent, (needing - absent, run.output[-2000:])
        assert absent <= needing | {"loginCode", "otherOrgAppId", "otherOrgWalletId", "otherOrgTransferId",
                                    "otherOrgUserId", "expiredUsername", "expiredRegistrationCode",
                                    "recoveryUsername", "recoveryCredId", "recoveryUserCredId",
                                    "recoveryVerificationCode", "pendingUsername", "pendingRegistrationCode"}
        assert main(["teardown", str(out)]) == 0, capsys.readouterr().out
        assert live_state(server) == before
        assert main(["teardown", str(out)]) == 0  # idempotent: everything already archived
        assert "0 not restored" in capsys.readouterr().out


def test_a_sensitive_host_without_the_flag_is_refused_and_nothing_is_created(tmp_path, capsys):
    with start_server() as server:
        before = live_state(server)
        code, out = bootstrap(server, tmp_path, "2024-08-19", "--dfns-sensitive-url", "127\\.0\\.0\\.1")
        printed = capsys.readouterr().out
        assert code == BAD_INPUT and "--dfns-allow-destructive" in printed and len(printed.splitlines()) == 1
        assert not out.exists() and live_state(server) == before
        # The control: the same call with the flag creates.
        code, out = bootstrap(server, tmp_path, "2024-08-19", "--dfns-sensitive-url", "127\\.0\\.0\\.1",
                              "--dfns-allow-destructive")
        assert code == 0 and live_state(server) != before
        assert main(["teardown", str(out), "--dfns-sensitive-url", "127\\.0\\.0\\.1",
                     "--dfns-allow-destructive"]) == 0
        assert live_state(server) == before


def test_bad_input_is_one_line_with_exit_4(tmp_path, capsys):
    with start_server() as server:
        path = admin_file(server, tmp_path, drop="credId")
        code = main(["bootstrap", "--base-url", server.url, "--dfns-profile", str(path), "--out",
                     str(tmp_path / "p.json")])
        printed = capsys.readouterr().out
        assert code == BAD_INPUT and "missing admin key credId" in printed and len(printed.splitlines()) == 1
        assert main(["bootstrap", "--base-url", server.url, "--dfns-profile", str(tmp_path / "nope.json"),
                     "--out", str(tmp_path / "p.json")]) == BAD_INPUT
        assert "file not found" in capsys.readouterr().out
        path = admin_file(server, tmp_path)
    # Unreachable: the server above is stopped.
    code = main(["bootstrap", "--base-url", server.url, "--dfns-profile", str(path), "--out", str(tmp_path / "p.json"),
                 "--dfns-contract", "2026"])
    printed = capsys.readouterr().out
    assert code == BAD_INPUT and "cannot reach" in printed and len(printed.splitlines()) == 1
    assert main(["teardown", str(tmp_path / "nope.json")]) == BAD_INPUT
    with pytest.raises(SystemExit) as usage:
        main(["bootstrap"])
    assert usage.value.code == 2


@pytest.mark.parametrize("policies", [False, True], ids=["no-policy", "control"])
def test_policy_id_is_read_from_the_orgs_policies_or_left_absent_saying_how(tmp_path, capsys, policies: bool):
    """policyId is read (List Policies), never created: an org without a policy leaves it absent with what to do.
    The control: the seeded policy is the one written."""
    with start_server(contract="2026") as server:
        if not policies:
            server.state.world.approvals._policies.clear()  # an org that never made a policy
        code, out = bootstrap(server, tmp_path, "2026")
        printed = capsys.readouterr().out
        assert code == 0, printed
        profile = json.loads(out.read_text())
        absent = {key: entry["how"] for entry in profile["bootstrap"]["absent"] for key in entry["keys"]}
        if policies:
            assert profile["policyId"] == server.profile["policyId"] and "policyId" not in absent
        else:
            assert "policyId" not in profile and "GET /v2/policies is empty" in absent["policyId"], printed
            assert "policyId: the org has no policy to read" in printed
        assert main(["teardown", str(out)]) == 0
