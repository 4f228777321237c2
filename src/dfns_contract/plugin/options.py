"""The plugin's options, as data: every one under ``--dfns-``, most with an ini key, old names as aliases.

Each option is declared once (``OPTIONS``) and read once (``Settings``), the
way pytest-base-url offers ``--base-url`` and the ``base_url`` ini key: the
command line wins, then the ini file (``pytest.ini``, ``tox.ini``,
``pyproject.toml``), then the default. An option that would let a file turn a
safety off for every run (``--dfns-allow-destructive``) or that is for the
suite's own tests (``--dfns-mock-fault``) has no ini key.

``--base-url`` is pytest-base-url's and stays as it is. The names of earlier
releases (``--require-all``, ``--sensitive-url``, …) still work, with one
deprecation warning each (``internals.rename_deprecated_options``); where
another plugin owns an old name (pytest-selenium's ``--sensitive-url``), it is
that plugin's.
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dfns_contract.contract.catalog import DEFAULT_REQUEST_HEADERS
from dfns_contract.contract.detection import AUTO, Detected
from dfns_contract.contract.profile import env_name, profile_keys
from dfns_contract.contract.schemas import DEFAULT_CONTRACT, published_contracts
from dfns_contract.contract.target import (
    DEFAULT_SENSITIVE_URL,
    TargetError,
    check_sensitive_url,
    is_sensitive,
    redact,
    resolve_target,
)

if TYPE_CHECKING:
    from dfns_contract.contract.preflight import Preflight

GROUP = ("dfns", "Dfns error contract")
#: Variables of the suite that are not profile keys.
OTHER_VARIABLES = ("DFNS_HYPOTHESIS_PROFILE",)


def _number(parse: Callable[[str], float], what: str, minimum: float, *, inclusive: bool) -> Callable[[str], Any]:
    """An argparse type: a number of ``what``, at least ``minimum`` (or more than it, when not ``inclusive``)."""
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%r is not %s" % (text, what)) from None
        if value < minimum or (value == minimum and not inclusive):
            bound = "%g or more" % minimum if inclusive else "more than %g" % minimum
            raise argparse.ArgumentTypeError("must be %s, not %s" % (bound, text))
        return value

    return convert


#: ``--dfns-retry-transport``: a count, 0 or more.
retry_count = _number(int, "a whole number", 0, inclusive=True)
#: ``--dfns-timeout``: seconds, more than 0.
seconds = _number(float, "a number of seconds", 0, inclusive=False)
#: ``--dfns-rate-limit`` as a number: requests per second, more than 0.
per_second = _number(float, "a number of requests per second", 0, inclusive=False)
#: ``--dfns-rate-limit``'s words: pace by the target's rate-limit headers, or not at all.
AUTO_RATE, NO_RATE = "auto", "off"


def rate(text: str) -> float | str:
    """``--dfns-rate-limit``: ``auto``, ``off``, or a number of requests per second."""
    word = text.strip().lower()
    if word in (AUTO_RATE, NO_RATE):
        return word
    try:
        return per_second(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError("%s: give a number of requests per second, auto or off" % exc) from None
#: ``--dfns-rate-limit-budget``: seconds, 0 or more.
budget_seconds = _number(float, "a number of seconds", 0, inclusive=True)
#: ``--dfns-concurrency``: requests at once, 1 or more.
request_count = _number(int, "a whole number", 1, inclusive=True)
#: ``--dfns-progress``'s words: always, never, or when the output is a terminal (the default).
PROGRESS_MODES = ("on", "off", "auto")


def progress_mode(text: str) -> str:
    """``--dfns-progress``: ``on``, ``off`` or ``auto``."""
    word = text.strip().lower()
    if word not in PROGRESS_MODES:
        raise argparse.ArgumentTypeError("%r: give on, off or auto" % text)
    return word


#: ``--dfns-concurrency`` unless told: a few connections, as a browser opens to one host.
DEFAULT_CONCURRENCY = 8


@dataclass(frozen=True)
class Option:
    """One option of the plugin: its flag, the ini key that may set it, and the name it had before."""

    flag: str
    help: str
    metavar: str | None = None
    default: Any = None
    type: Callable[[str], Any] | None = None
    flag_only: bool = False  # a switch (store_true)
    ini: bool = True
    is_path: bool = False
    repeatable: bool = False
    old: str | None = None
    #: The value of the flag given alone (``--dfns-progress`` means ``on``): the value is optional.
    const: str | None = None
    #: Not in ``--help``: for the suite's own tests (``--dfns-progress-interval``).
    hidden: bool = False

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("--dfns-profile", "target profile (JSON, schemas/profile.json); DFNS_* variables override single keys",
           "PATH", is_path=True),
    Option("--dfns-contract", "the published version of the error contract to certify against, or auto: a few "
           "read-only requests decide which the target implements (default %s)" % DEFAULT_CONTRACT,
           "VERSION", default=DEFAULT_CONTRACT),
    Option("--dfns-catalog", "a catalog file instead of the published version's (schemas/catalog.json describes it)",
           "PATH", is_path=True),
    Option("--dfns-timeout", "timeout of each HTTP request in seconds (default 10)", "SECONDS", 10.0, seconds),
    Option("--dfns-deadline", "seconds the cases of the run may take in all (each process, from its first case); "
           "past it no request is sent and the remaining cases are errors, and the cleanup and reports still "
           "happen (default: 60 + timeout x (cases + heavy cases x examples / 4))", "SECONDS", type=seconds),
    Option("--dfns-retry-transport", "retry a request up to N times when its connection fails (refused, connect "
           "timeout, DNS): only before anything was sent, never after (default 0)", "N", 0, retry_count),
    Option("--dfns-skip-preflight", "do not check the target before the first case (the preflight: it answers as a "
           "Dfns API, accepts the token, the key signs a user action)", flag_only=True),
    Option("--dfns-rate-limit", "auto: pace by the target's X-RateLimit-Limit/Remaining/Reset headers (and its "
           "429s), shared by the run's processes (the default with --base-url); a number: at most this many requests "
           "per second (split between pytest-xdist workers); off: unthrottled (the default against the embedded "
           "server)", "auto|PER_SECOND|off", type=rate),
    Option("--dfns-concurrency", "independent work at once against the target: at most N requests of the run on "
           "their way at once (split between pytest-xdist workers; a race's burst excepted); 1 sends one request "
           "after another (default %d)" % DEFAULT_CONCURRENCY, "N", DEFAULT_CONCURRENCY, request_count),
    Option("--dfns-rate-limit-budget", "seconds the run may spend waiting on 429 / 503 Retry-After answers before a "
           "rate-limited case is an error (default 60)", "SECONDS", 60.0, budget_seconds),
    Option("--dfns-require-all", "fail the run when any documented error was not verified (CI gate)",
           flag_only=True, old="--require-all"),
    Option("--dfns-allow-incomplete", "exit 0 when the run is INCOMPLETE without any error (a -k selection while "
           "developing); the word stays INCOMPLETE in every output", flag_only=True, ini=False),
    Option("--dfns-allow-destructive", "run state-changing cases against a --dfns-sensitive-url target",
           flag_only=True, ini=False, old="--allow-destructive"),
    Option("--dfns-sensitive-url", "targets where state-changing cases are skipped unless --dfns-allow-destructive "
           "(regex; default: the production API hosts)", "REGEX", DEFAULT_SENSITIVE_URL, old="--sensitive-url"),
    Option("--dfns-mock-fault", "start the embedded reference server with this fault switched on (the suite's own "
           "tests; see dfns-mock --list-faults)", "NAME", ini=False, repeatable=True),
    Option("--dfns-mock-contract", "start the embedded reference server as this published version instead of "
           "--dfns-contract's (the suite's own tests: one version's suite against another's server)", "VERSION",
           ini=False),
    Option("--dfns-contract-report", "write the conformance report for sign-off (JSON, schemas/report.json): target, "
           "versions, verdict and evidence per documented error", "PATH.json", is_path=True, old="--contract-report"),
    Option("--dfns-contract-report-html", "write the conformance report as one self-contained HTML page",
           "PATH.html", is_path=True, old="--contract-report-html"),
    Option("--dfns-errors-doc", "a copy of getting-started/errors.md: list documented errors the catalog does not "
           "cover, and catalog entries the page no longer documents", "PATH", is_path=True, old="--errors-doc"),
    Option("--dfns-strict-drift", "fail the run when --dfns-errors-doc and the catalog differ",
           flag_only=True, old="--strict-drift"),
    Option("--dfns-hypothesis-profile", "the suite's fuzzing budget, values per property and walks of the replay "
           "model: ci (derandomized, 64 values, 8 walks), dev (32, 4) or "
           "thorough (1000, 40), trial (16, 4); default trial behind a quota of 100 requests a window or less "
           "(X-RateLimit-Limit), else ci where CI is set, else dev (also DFNS_HYPOTHESIS_PROFILE)", "NAME"),
    Option("--dfns-progress", "a line every 10 s saying what the run is doing (cases done, requests sent, a wait on "
           "a rate limit and until when): auto shows it when the output is a terminal, never under -qq (the "
           "default); on (or the flag alone) also when it is not; off never", "on|off|auto", "auto",
           progress_mode, const="on"),
    Option("--dfns-progress-interval", "seconds between progress lines (the suite's own tests)", "SECONDS", 10.0,
           seconds, ini=False, hidden=True),
    Option("--dfns-list", "list the documented errors of the contract with their cases, profile keys and safety "
           "class, and run nothing (a collection only, like --co: the target is never contacted)",
           flag_only=True, ini=False),
    Option("--dfns-list-json", "write that list as JSON (schemas/errors-list.json) to PATH, and run nothing",
           "PATH.json", is_path=True, ini=False),
)

#: Old flag → new flag.
DEPRECATED = {option.old: option.flag for option in OPTIONS if option.old}
#: Path options of other plugins the docs recommend beside the suite: pytest-reportlog's ``--report-log``.
NEIGHBOUR_PATH_DESTS = ("report_log",)
#: Destinations whose value is a path (pytest would otherwise take it for a test path: ``internals.repair_setup``).
PATH_DESTS = tuple(option.dest for option in OPTIONS if option.is_path) + NEIGHBOUR_PATH_DESTS


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(*GROUP)
    for option in OPTIONS:
        kwargs: dict[str, Any] = {"dest": option.dest, "help": option.help}
        if option.flag_only:
            kwargs.update(action="store_true", default=None)
        elif option.repeatable:
            kwargs.update(action="append", metavar=option.metavar)
        else:
            kwargs.update(metavar=option.metavar, type=option.type, default=None)
            if option.const is not None:
                kwargs.update(nargs="?", const=option.const)
        if option.hidden:
            kwargs["help"] = argparse.SUPPRESS
        group.addoption(option.flag, **kwargs)
        if option.ini:
            if option.flag_only:
                parser.addini(option.dest, help=option.help, type="bool", default=False)
            else:
                parser.addini(option.dest, help=option.help, type="string")


def value(config: pytest.Config, option: Option) -> Any:
    """The command line's value, else the ini file's (a relative path from the ini file's folder), else the default."""
    given = config.getoption(option.dest, None)
    if given not in (None, []):
        return given
    if option.ini and config.inipath is not None:
        text = config.getini(option.dest)
        if option.flag_only and text:
            return True
        if isinstance(text, str) and text.strip():
            return _from_ini(config, option, text.strip())
    return option.default


def _from_ini(config: pytest.Config, option: Option, text: str) -> Any:
    if option.is_path:
        return str(Path(config.inipath).parent / Path(text).expanduser())  # type: ignore[arg-type]
    if option.type is None:
        return text
    try:
        return option.type(text)
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError("%s = %s in %s: %s" % (option.dest, text, config.inipath, exc)) from None


def _option(flag: str) -> Option:
    return next(option for option in OPTIONS if option.flag == flag)


class Settings:
    """What the command line, the ini file and the profile decided, checked once at start.

    Raises ``ProfileError`` or ``TargetError``: the plugin makes either a usage error.
    """

    def __init__(self, config: pytest.Config) -> None:
        get = lambda flag: value(config, _option(flag))  # noqa: E731
        self.timeout: float = get("--dfns-timeout")
        #: None: ``client.guard.run_deadline`` from the timeout and the selected cases.
        self.deadline: float | None = get("--dfns-deadline")
        self.retry_transport: int = get("--dfns-retry-transport")
        self.faults: list[str] = get("--dfns-mock-fault") or []
        self.require_all: bool = bool(get("--dfns-require-all"))
        self.allow_incomplete: bool = bool(get("--dfns-allow-incomplete")) and not self.require_all
        self.allow_destructive: bool = bool(get("--dfns-allow-destructive"))
        self.sensitive_url: str = check_sensitive_url(get("--dfns-sensitive-url"))
        self.contract: str = get("--dfns-contract")
        self.catalog_path: str | None = get("--dfns-catalog")
        self.report_json: str | None = get("--dfns-contract-report")
        self.report_html: str | None = get("--dfns-contract-report-html")
        self.errors_doc: str | None = get("--dfns-errors-doc")
        self.strict_drift: bool = bool(get("--dfns-strict-drift"))
        self.hypothesis_profile: str | None = get("--dfns-hypothesis-profile") or os.environ.get("DFNS_HYPOTHESIS_PROFILE")
        self.profile_path: str | None = get("--dfns-profile")
        self.skip_preflight: bool = bool(get("--dfns-skip-preflight"))
        #: ``auto``, a rate (requests per second) or None (``off``); resolved once the target is known (below).
        self.rate_limit: float | str | None = get("--dfns-rate-limit")
        self.rate_limit_budget: float = get("--dfns-rate-limit-budget")
        self.concurrency: int = get("--dfns-concurrency")
        #: ``--dfns-progress``: on, off or auto (``plugin/progress.py`` decides with the terminal and -qq).
        self.progress: str = get("--dfns-progress")
        self.progress_interval: float = get("--dfns-progress-interval")
        self.list_text: bool = bool(get("--dfns-list"))
        self.list_json: str | None = get("--dfns-list-json")
        #: Collection only (``--co``, ``--dfns-list``): no case runs, so the target is never contacted.
        self.collect_only: bool = bool(config.getoption("collectonly", False)) or self.listing
        # pytest-base-url's option (also PYTEST_BASE_URL), else its ini key: read here, as its own
        # pytest_configure, which copies the ini key over, may run after the suite's conftest's.
        base_url = config.getoption("base_url", None)
        if base_url is None and config.inipath is not None:
            base_url = config.getini("base_url") or None
        # A live profile (the file and DFNS_* variables) or, when nothing names a target, the embedded server's.
        self.base_url, self.profile = resolve_target(base_url, self.profile_path, os.environ)
        if self.rate_limit is None:  # unless told: a live target's quota is read from its answers
            self.rate_limit = AUTO_RATE if self.base_url else None
        elif self.rate_limit == NO_RATE:
            self.rate_limit = None
        #: ``auto``: the folder where the run's processes share the quota (set by ``suite.activate``).
        self.quota_folder: Path | None = None
        #: This process's pacer, made once (``ratelimit.run_pacer``); None until then or when unthrottled.
        self.pacer: Any = None
        #: The headers the contract's requests carry, lower-cased (``Catalog.request_headers``; set with the catalog).
        self.request_headers: frozenset[str] = frozenset(h.lower() for h in DEFAULT_REQUEST_HEADERS)
        #: What the preflight checked (``suite.activate`` runs it in the controller, against a live target).
        self.preflight: Preflight | None = None
        if self.faults and self.base_url:
            raise TargetError("--dfns-mock-fault applies to the embedded server only, not to --base-url")
        if self.faults:
            from dfns_contract.server.faults import UnknownFault, resolve_faults

            try:
                resolve_faults(self.faults)
            except UnknownFault as exc:
                raise TargetError("--dfns-mock-fault: %s" % exc) from None
        #: The version the embedded server implements: --dfns-contract's, unless --dfns-mock-contract says otherwise.
        self.server_contract: str = get("--dfns-mock-contract") or (
            DEFAULT_CONTRACT if self.contract == AUTO else self.contract)
        if get("--dfns-mock-contract") and self.base_url:
            raise TargetError("--dfns-mock-contract applies to the embedded server only, not to --base-url")
        for flag, version, also in (("--dfns-contract", self.contract, [AUTO]),
                                    ("--dfns-mock-contract", self.server_contract, [])):
            if version not in published_contracts() + also:
                raise TargetError("%s %s: no such published version of the errors page; choose one of: %s"
                                  % (flag, version, ", ".join(published_contracts() + also)))
        #: How ``--dfns-contract auto`` chose the version (``contract/detection.py``); None when it was named.
        self.detected: Detected | None = None
        if self.strict_drift and not self.errors_doc:
            raise TargetError("--dfns-strict-drift needs --dfns-errors-doc PATH (a copy of getting-started/errors.md) "
                              "to compare the catalog with")

    @property
    def shown_url(self) -> str | None:
        """The base URL as outputs may show it (user info masked)."""
        return redact(self.base_url) if self.base_url else None

    @property
    def listing(self) -> bool:
        """``--dfns-list`` or ``--dfns-list-json``: the run lists the documented errors instead of testing them."""
        return self.list_text or bool(self.list_json)

    @property
    def sensitive(self) -> bool:
        return bool(self.base_url) and is_sensitive(self.base_url, self.sensitive_url)



def warn_unknown_variables(config: pytest.Config, environ: Mapping[str, str]) -> None:
    """A ``DFNS_*`` variable the suite does not read is a warning naming the closest one it does.

    A misspelt ``DFNS_AUTHTOKEN`` would otherwise be ignored in silence, and the
    run would skip every case that needs the token.
    """
    known = [env_name(key) for key in profile_keys()] + list(OTHER_VARIABLES)
    for name in sorted(environ):
        if name.startswith("DFNS_") and name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = "; did you mean %s?" % close[0] if close else " (see the profile keys in docs/profile.md)"
            config.issue_config_time_warning(pytest.PytestConfigWarning(
                "%s is not a variable the suite reads%s" % (name, hint)), stacklevel=2)
