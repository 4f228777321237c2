"""``dfns-mock`` as a user runs it.

A subprocess that prints its URL, writes its profile and stops on a signal.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator

from dfns_contract.client import DfnsClient
from dfns_contract.server.faults import FAULTS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("dfns-mock")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "dfns_contract.server.cli"]
DEADLINE = 20.0


class Mock:
    """A running ``dfns-mock`` and the lines it prints."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def line(self) -> str:
        try:
            return self.lines.get(timeout=DEADLINE)
        except queue.Empty:
            raise AssertionError("dfns-mock printed nothing within %.0f s" % DEADLINE) from None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=DEADLINE)


@pytest.fixture
def mock_factory() -> Iterator:
    started: list[Mock] = []

    def start(*args: str) -> Mock:
        started.append(Mock(*args))
        return started[-1]

    yield start
    for mock in started:
        if mock.process.poll() is None:
            mock.process.kill()
            mock.process.wait(timeout=DEADLINE)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serves_writes_the_profile_and_stops_cleanly(mock_factory, tmp_path, sig):
    out = tmp_path / "p.json"
    mock = mock_factory("--port", "0", "--profile-out", str(out))
    first = mock.line().strip()
    assert first.startswith("dfns-mock listening on http://127.0.0.1:")
    url = first.rsplit(" ", 1)[1]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    profile = json.loads(out.read_text())
    Draft202012Validator(json.loads((ROOT / "schemas" / "profile.json").read_text())).validate(
        profile
    )
    assert profile["baseUrl"] == url
    client = DfnsClient(url, profile["appId"], auth_token=profile["authToken"])
    assert client.request("GET", "/auth/apps").status == 200
    assert mock.stop(sig) == 0


def test_fault_flag_switches_the_fault_on(mock_factory):
    mock = mock_factory("--port", "0", "--fault", "envelope-flat", "--fault", "charset")
    url = mock.line().split()[-1]
    answer = requests.get(url + "/auth/apps", timeout=10)
    assert answer.json() == {"message": "request nonce is missing or invalid"}
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert mock.stop() == 0


def test_unknown_fault_is_a_usage_error():
    done = subprocess.run(
        [*COMMAND, "--fault", "no-such-fault"],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown fault 'no-such-fault'" in done.stderr and "usage:" in done.stderr


def test_list_faults_names_every_switch_with_its_kind():
    done = subprocess.run(
        [*COMMAND, "--list-faults"], capture_output=True, text=True, timeout=DEADLINE, check=False
    )
    assert done.returncode == 0
    listed = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines()}
    assert listed == {name: fault.kind.value for name, fault in FAULTS.items()}


def test_busy_port_is_a_clear_error(mock_factory):
    mock = mock_factory("--port", "0")
    port = mock.line().rsplit(":", 1)[1].strip()
    done = subprocess.run(
        [*COMMAND, "--port", port], capture_output=True, text=True, timeout=DEADLINE, check=False
    )
    assert done.returncode == 1 and "cannot listen" in done.stderr
    assert mock.stop() == 0


def test_limits_and_the_access_log_are_options(mock_factory):
    mock = mock_factory("--port", "0", "--max-body-bytes", "100", "--access-log")
    url = mock.line().split()[-1]
    answer = requests.post(url + "/auth/login/init", data=b"{" + b" " * 99 + b"}", timeout=10)
    assert answer.status_code == 413
    assert answer.json() == {"error": {"message": "request body is larger than 100 bytes"}}
    assert requests.post(url + "/auth/login/init", data=b"{" + b" " * 98 + b"}", timeout=10).status_code == 400
    assert mock.stop() == 0
    assert mock.process.stderr is not None
    lines = [line for line in mock.process.stderr.read().splitlines() if "dfns_contract.server.access" in line]
    assert [line.split('"')[1:] for line in lines] == [
        ["POST /auth/login/init", " 413 " + lines[0].rsplit(" ", 1)[1]],
        ["POST /auth/login/init", " 400 " + lines[1].rsplit(" ", 1)[1]],
    ]


def test_the_default_options_are_the_default_settings():
    from dfns_contract.server.cli import _parser, settings_from
    from dfns_contract.server.settings import Settings

    assert settings_from(_parser().parse_args([])) == Settings()


@pytest.mark.parametrize("option", ["--max-body-bytes=0", "--header-timeout=-1", "--header-timeout=nan",
                                    "--max-connections-per-client=1.5"])
def test_a_limit_must_be_a_finite_number_above_zero(option):
    done = subprocess.run([*COMMAND, option], capture_output=True, text=True, timeout=DEADLINE, check=False)
    assert done.returncode == 2 and "usage:" in done.stderr


@pytest.mark.parametrize("version, message", [
    ("2024-08-19", "Not Authorized."),
    ("2024-08-19-extended", "Not Authorized."),
    ("2025-02-07", "user token is missing or invalid"),
])
def test_contract_flag_picks_the_version_the_server_answers_as(mock_factory, version, message):
    mock = mock_factory("--port", "0", "--contract", version)
    url = mock.line().split()[-1]
    client = DfnsClient(url, None)
    answer = requests.post(url + "/auth/login/init", json={"username": "nobody@example.invalid", "orgId": "or-x"},
                           headers=client.headers(), timeout=10)
    # No app: the common 401, in the version's words.
    assert answer.status_code == 401 and answer.json() == {"error": {"message": message}}
    assert mock.stop() == 0


def test_contract_2026_answers_in_its_body_without_nonce_or_app_id(mock_factory):
    mock = mock_factory("--port", "0", "--contract", "2026")
    url = mock.line().split()[-1]
    answer = requests.get(url + "/auth/apps", timeout=10)
    error = answer.json()["error"]
    assert answer.status_code == 401 and error["status"] == 401 and error["details"] == {}
    assert error["message"] == "user token is missing or invalid" and error["id"]
    assert mock.stop() == 0


def test_list_faults_says_which_versions_judge_the_others():
    done = subprocess.run(
        [*COMMAND, "--list-faults"], capture_output=True, text=True, timeout=DEADLINE, check=False
    )
    lines = {line.split()[0]: line for line in done.stdout.splitlines()}
    assert lines["conflict-message"].endswith("(judged by 2026)")
    assert lines["login-code-reusable"].endswith("(judged by 2024-08-19-extended, 2025-02-07)")
    assert lines["nonce-check-off"].endswith("(judged by 2024-08-19, 2024-08-19-extended, 2025-02-07)")
    assert "judged by" not in lines["auth-off"] + lines["gzip"]  # every version's suite judges them


def test_the_default_contract_is_the_first_edit():
    from dfns_contract.server.cli import _parser

    assert _parser().parse_args([]).contract == "2024-08-19"


def test_unknown_contract_is_a_usage_error_naming_the_known_ones():
    done = subprocess.run([*COMMAND, "--contract", "2024-09-01"], capture_output=True, text=True,
                          timeout=DEADLINE, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "unknown contract version '2024-09-01'" in done.stderr
    assert "2024-08-19, 2024-08-19-extended, 2025-02-07, 2026" in done.stderr


def test_policy_option_is_the_settings_policies():
    from dfns_contract.server.cli import _parser, settings_from

    args = _parser().parse_args(["--policy", "Permissions:Assign", "--policy", "Wallets:Sign",
                                 "--policy", "Permissions:Assign"])
    assert settings_from(args).policies == ("Permissions:Assign", "Wallets:Sign")


def test_unknown_policy_activity_is_a_usage_error():
    done = subprocess.run([*COMMAND, "--policy", "Permissions:Revoke"], capture_output=True, text=True,
                          timeout=DEADLINE, check=False)
    assert done.returncode == 2
    assert "unknown policy activity 'Permissions:Revoke'" in done.stderr and "usage:" in done.stderr


def test_a_policy_option_holds_its_activity_for_approval(mock_factory, tmp_path):
    from dfns_contract.client import KeySigner

    from selftests.server.today import TodaysClient

    out = tmp_path / "p.json"
    mock = mock_factory("--port", "0", "--contract", "2026", "--policy", "Permissions:Assign",
                        "--profile-out", str(out))
    url = mock.line().split()[-1]
    p = json.loads(out.read_text())
    admin = TodaysClient(url, None, auth_token=p["authToken"], signer=KeySigner(p["credId"], p["privateKey"]))
    made = admin.request("POST", "/permissions", {"name": "held", "operations": ["Wallets:Read"]}, sign=True)
    assert made.status == 200, made.text
    path = "/permissions/%s/assignments" % made.json["id"]
    got = admin.request("POST", path, {"identityId": p["limitedPrincipalId"]}, sign=True)
    assert got.status == 202 and got.json["status"] == "Pending" and got.json["kind"] == "Assignment"
    assert admin.request("GET", path).json == {"items": []}
    assert mock.stop() == 0
