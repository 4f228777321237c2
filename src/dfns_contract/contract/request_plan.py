"""What a run may spend: its request plan, chosen with its fuzzing budget.

A quota charges requests, and a trial organisation has 100 a 60-second window
(``docs/rate-limits.md``). Behind such a quota (the ``X-RateLimit-Limit`` the
preflight saw is ``fuzzing.TRIAL_QUOTA`` or less) the run takes the ``trial``
fuzzing budget (``plugin/fuzzing.choose_budget``) and with it the ``trial``
plan below, so that a default 2026 run fits in one window. Every plan shares
the controls and set-ups that cost no kill (``shared.py``); the trial plan
also trims what only adds confidence, never a case's own fault or control:

* the race of identical transfers sends ``race_senders`` requests at once
  (two are a race: a store that checks and records in two steps lets both
  through; more senders only widen the window);
* the ``external-id-conflict`` variants do not list the wallet's transfers
  after their 409 (``list_after_conflict``): the race still lists its own,
  so what the trial plan gives up is finding a transfer that a conflicting
  request created although it answered 409;
* the fuzzing budget (``fuzzing.py``: ``trial``) fuzzes 3 values per header
  property, derandomized, one of each tier no documented case sends.

``--dfns-hypothesis-profile trial`` forces the plan on any target (the
mutation matrix runs the 2026 suite that way); ``--dfns-list`` names the plan
and what a run of it costs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestPlan:
    """The knobs of a run's request spending."""

    name: str
    #: Identical transfers sent at once by the race of ``external-id-conflict``.
    race_senders: int
    #: Whether each ``external-id-conflict`` variant lists the wallet's transfers after its 409.
    list_after_conflict: bool


FULL = RequestPlan("full", race_senders=5, list_after_conflict=True)
TRIAL = RequestPlan("trial", race_senders=2, list_after_conflict=False)

#: Requests of a serial default run of each version under each plan, counted by the reference server with the
#: preflight and the cleanup (``bench/quota.py``, 2026-12-07): what ``--dfns-list`` says a run costs.
MEASURED: dict[str, dict[str, int]] = {
    "2026": {"full": 170, "trial": 99},
    "2024-08-19": {"full": 432},
    "2024-08-19-extended": {"full": 469},
    "2025-02-07": {"full": 464},
}

_active = FULL


def use(budget_name: str) -> RequestPlan:
    """Make the plan of fuzzing budget ``budget_name`` this process's (``trial`` → ``TRIAL``, else ``FULL``)."""
    global _active
    _active = TRIAL if budget_name == "trial" else FULL
    return _active


def active() -> RequestPlan:
    """This process's plan (``FULL`` until the plugin chose one)."""
    return _active


def describe(contract: str | None) -> dict[str, object]:
    """The active plan for ``--dfns-list``: its name, and what a serial default run of ``contract`` cost when
    measured (None: not measured for that version and plan)."""
    plan = active()
    return {"name": plan.name, "requests": MEASURED.get(contract or "", {}).get(plan.name)}
