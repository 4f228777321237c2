"""The options' usage errors, checked in this process: a subprocess per bad value cost seconds each.

``pytester.parseconfig`` parses a command line with the plugin's options as
pytest does at start (the plugin is installed, so its options are registered);
``Settings`` then reads the ini file as a run does. The one end-to-end proof of
the exit-4 line stays in ``runs/test_slow_target.py`` (``--dfns-deadline 0``).
"""

from __future__ import annotations

import pytest

from dfns_contract.contract.schemas import published_contracts
from dfns_contract.contract.target import TargetError
from dfns_contract.plugin.options import Settings


@pytest.fixture(autouse=True)
def no_dfns_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's DFNS_* variables would name a target: the settings are read as on a clean machine."""
    import os

    for name in [n for n in os.environ if n.startswith("DFNS_")]:
        monkeypatch.delenv(name)


def usage_error(pytester: pytest.Pytester, *args: str) -> str:
    """The usage error that parsing ``args`` and reading the settings raises, as pytest prints it."""
    with pytest.raises(pytest.UsageError) as raised:
        Settings(pytester.parseconfig(*args))
    return str(raised.value)


@pytest.mark.parametrize("args, message", [
    (("--dfns-deadline", "0"), "--dfns-deadline: must be more than 0"),
    (("--dfns-deadline", "soon"), "--dfns-deadline: 'soon' is not a number of seconds"),
    (("-o", "dfns_deadline=-3"), "dfns_deadline = -3 in"),
], ids=["zero", "not-a-number", "ini"])
def test_a_bad_deadline_is_a_usage_error(pytester: pytest.Pytester, args: tuple[str, ...], message: str) -> None:
    pytester.makeini("[pytest]\n")  # an ini file, as the project's: the ini key is read from one
    assert message in usage_error(pytester, *args)


@pytest.mark.parametrize("args", [("--dfns-deadline", "2.5"), ("-o", "dfns_deadline=2.5")], ids=["flag", "ini"])
def test_a_good_deadline_is_read(pytester: pytest.Pytester, args: tuple[str, ...]) -> None:
    """The control of the test above: the same spellings with a valid value are no error."""
    pytester.makeini("[pytest]\n")
    assert Settings(pytester.parseconfig(*args)).deadline == 2.5


@pytest.mark.parametrize("args", [
    ("--dfns-contract", "2024-13-01"),
    ("-o", "dfns_contract=2024-08-19-draft"),
    ("--dfns-mock-contract", "2026-01-01"),
    ("--dfns-contract", "../../schemas/contracts/2024-08-19"),
], ids=["option", "ini", "mock", "path"])
def test_an_unknown_version_is_a_set_up_error_naming_the_versions(pytester: pytest.Pytester,
                                                                   args: tuple[str, ...]) -> None:
    """``Settings`` raises ``TargetError``; the plugin prints it as the one exit-4 line (runs/test_versions.py)."""
    pytester.makeini("[pytest]\n")
    with pytest.raises(TargetError) as raised:
        Settings(pytester.parseconfig(*args))
    assert "no such published version of the errors page; choose one of: %s" % ", ".join(published_contracts()) \
        in str(raised.value)


@pytest.mark.parametrize("args", [("--dfns-contract", "2024-08-19"), ("-o", "dfns_contract=2024-08-19"),
                                  ("--dfns-mock-contract", "2026")], ids=["option", "ini", "mock"])
def test_a_published_version_is_read(pytester: pytest.Pytester, args: tuple[str, ...]) -> None:
    """The control of the test above: a published version in the same places is no error."""
    pytester.makeini("[pytest]\n")
    Settings(pytester.parseconfig(*args))


@pytest.mark.parametrize("args, message", [
    (("--dfns-timeout", "0"), "--dfns-timeout: must be more than 0"),
    (("--dfns-timeout", "-1"), "--dfns-timeout: must be more than 0"),
    (("--dfns-timeout", "soon"), "--dfns-timeout: 'soon' is not a number of seconds"),
    (("--dfns-retry-transport", "-1"), "--dfns-retry-transport: must be 0 or more"),
    (("--dfns-rate-limit", "0"), "--dfns-rate-limit: must be more than 0"),
    (("--dfns-rate-limit-budget", "-5"), "--dfns-rate-limit-budget: must be 0 or more"),
], ids=["timeout-0", "timeout-negative", "timeout-word", "retries-negative", "rate-0", "budget-negative"])
def test_bad_option_values_are_usage_errors(pytester: pytest.Pytester, args: tuple[str, ...], message: str) -> None:
    """What runs/test_verdict.py and test_live_safety.py check end to end, one subprocess each, in the full tier."""
    assert message in usage_error(pytester, *args)


def test_good_option_values_are_read(pytester: pytest.Pytester) -> None:
    """The control of the test above: the same options with valid values."""
    settings = Settings(pytester.parseconfig("--dfns-timeout", "2", "--dfns-retry-transport", "0",
                                             "--dfns-rate-limit", "5", "--dfns-rate-limit-budget", "0"))
    assert (settings.timeout, settings.retry_transport, settings.rate_limit, settings.rate_limit_budget) == (2, 0, 5, 0)
