"""A catalog and its recipes that do not match are one usage error, naming the entry, before any request.

One run per kind of mismatch, each against a catalog edited the way a person
adding a documented error would get it wrong, and a target that counts the
requests it receives.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dfns_contract.contract.schemas import contract_path
from selftests.helpers.suite_runner import run_suite

USAGE_ERROR = 4
NEW_ENTRY = {"id": "brand-new-error", "section": "Common Errors › 400 - Bad Request", "summary": "Brand new",
             "status": 400, "message": "brand new", "safety": "read-only"}


class CountingTarget:
    """Answers 200 to anything and counts what it was sent."""

    def __init__(self) -> None:
        self.requests = 0
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                target.requests += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]


@pytest.fixture
def target() -> Iterator[CountingTarget]:
    counting = CountingTarget()
    thread = threading.Thread(target=counting.server.serve_forever, daemon=True)
    thread.start()
    yield counting
    counting.server.shutdown()


def nonce_entry(errors: list[dict]) -> dict:
    return next(error for error in errors if error["id"] == "nonce-missing-or-invalid")


def add_entry(errors: list[dict]) -> None:
    errors.append(dict(NEW_ENTRY))


def add_variant(errors: list[dict]) -> None:
    nonce_entry(errors)["variants"].append("typo-variant")


MISMATCHES: dict[str, tuple[Callable[[list[dict]], None], tuple[str, ...], str]] = {
    "entry-without-recipe": (add_entry, (), "entry 'brand-new-error' has no recipe"),
    "variant-without-code": (add_variant, (), "entry 'nonce-missing-or-invalid': variant 'typo-variant' has no code"),
    # A catalog may list fewer variants than the recipe has code for (contract 2026 does): code for a variant no
    # published version lists is the mismatch, shown in selftests/unit/test_contract_2026.py.
    "need-not-a-profile-key": (add_entry, ("-p", "selftests.helpers.plugins.bad_recipe"),
                               "recipe 'brand-new-error' needs 'noSuchKey', which is not a profile key"),
}


@pytest.mark.parametrize("kind", sorted(MISMATCHES))
def test_a_mismatch_is_one_usage_error_before_any_request(kind: str, tmp_path: Path, target: CountingTarget) -> None:
    edit, plugins, message = MISMATCHES[kind]
    catalog = json.loads(contract_path().read_text())
    edit(catalog["errors"])
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    profile = tmp_path / "profile.json"
    profile.write_text("{}")
    run = run_suite(*plugins, "--base-url", target.url, "--dfns-profile", str(profile), "--dfns-catalog", str(path))
    assert run.returncode == USAGE_ERROR, run.output
    assert "Traceback" not in run.output and message in run.output, run.output
    assert str(path) in run.output, run.output
    assert target.requests == 0, "a request was sent before the catalog was checked"


def test_the_shipped_catalog_passes_the_same_run(tmp_path: Path, target: CountingTarget) -> None:
    """The control: the unedited catalog through the same option loads, and the run goes on to the target."""
    path = tmp_path / "catalog.json"
    path.write_text(contract_path().read_text())
    profile = tmp_path / "profile.json"
    profile.write_text("{}")
    run = run_suite("--base-url", target.url, "--dfns-profile", str(profile), "--dfns-catalog", str(path), "--dfns-skip-preflight",
                    "-q", "-k", "nonce-reused-immediately")  # (a collection only would not contact the target at all)
    assert run.returncode == 0, run.output
    assert target.requests == 1  # the reachability check at start; the case is skipped (an empty profile)
