"""A pytest plugin for the masking selftests (``-p selftests.helpers.plugins.long_secret``).

Registers the token in ``SELFTEST_SECRET`` as the profile registers its
secrets, then fails every case once it has run, showing a long token
everywhere a failure can show one, each a place where pytest cuts what it
shows unless ``-vv``: the failing frame's argument and locals (``--showlocals``
cuts their reprs to 240 characters), both sides of an assertion (its first
line cuts them to about 30), the diff of the two (it skips their first 190
identical characters, then stops at 640), the assertion's message, captured
stdout and a captured log record.

The case whose id is ``SELFTEST_CONTROL_CASE`` shows ``SELFTEST_UNREGISTERED``
instead, a token of the same shape the run does not know: the selftest's
control, which must be found in the outputs the other is masked from.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from dfns_contract.client.secrets import SECRETS

LABEL = "selftestToken"

SECRETS.add(os.environ["SELFTEST_SECRET"], LABEL)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    control = item.name.endswith("[%s]" % os.environ["SELFTEST_CONTROL_CASE"])
    fail_showing(os.environ["SELFTEST_UNREGISTERED" if control else "SELFTEST_SECRET"])
    return result


def fail_showing(token: str) -> None:
    """Fail with ``token`` in an argument, locals, both sides of an assertion and its diff, its message, stdout and a log."""
    authorization = "Bearer " + token
    headers = {"Authorization": authorization, "X-DFNS-APPID": "ap-selftest"}
    tampered = authorization[:200] + "-tampered"
    print("selftest stdout: the client sent", headers["Authorization"])
    logging.getLogger("selftest").error("selftest log: the client sent %s", authorization)
    assert tampered == authorization, "selftest: the target answered %s" % token
