"""The options' usage errors, checked in this process: a subprocess per bad value cost seconds each.

``pytester.parseconfig`` parses a command line with the plugin's options as
pytest does at start (the plugin is installed, so its options are registered);
``Settings`` then reads the ini file as a run does. The one end-to-end proof of
the exit-4 line stays in ``runs/test_slow_target.py`` (``--dfns-deadline 0``).
"""

from __future__ import annotations

import pytest

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
