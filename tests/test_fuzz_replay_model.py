"""A model of the replay rules, checked against the server by walks of steps in random order.

Fresh, reused and malformed nonces and user actions signed for one request
and spent on it or on another: each nonce is accepted at most once, each user
action is consumed once and only by the request it was signed for.

A walk is a chain of steps that depend on each other (a reuse needs its nonce,
a spend its signed action), so its steps go one after another; walks do not
depend on each other, so one Hypothesis example is a batch of walks, walked at
once (``--dfns-concurrency``). Its budget is in walks (``contract/fuzzing.WALKS``:
dev 8, ci 16); a failing walk is reported as found, step by step, not shrunk:
each step is a round trip, and shrinking would walk it again hundreds of times.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfns_contract.client import DfnsClient, EnvironmentFailure, Exchange
from dfns_contract.contract.catalog import Catalog
from dfns_contract.contract.cleanup import Cleanup
from dfns_contract.contract.concurrency import at_once
from dfns_contract.contract.expectations import ContractViolation, assert_as_documented, assert_success
from dfns_contract.contract.profile import Profile
from dfns_contract.contract.strategies import BATCH, PADDING, Drawn, invalid_nonces
from dfns_contract.wire.nonce import make_nonce

# Many requests each: they run first (see the plugin's ordering); the budget is in walks.
pytestmark = [pytest.mark.heavy, pytest.mark.walks]

#: The documented errors the model checks (their needs and safety are the test's).
CHECKED = ("nonce-reused", "nonce-missing-or-invalid", "useraction-reused", "useraction-missing-or-invalid")
ACTIONS = ("activate", "deactivate")
#: The most steps of a walk.
STEPS = 12


@dataclass(frozen=True)
class Fresh:
    def __str__(self) -> str:
        return "a fresh nonce"


@dataclass(frozen=True)
class Reuse:
    which: int
    pad: tuple[str, str]

    def __str__(self) -> str:
        return "nonce #%d of the walk sent again (padded %r)" % (self.which + 1, self.pad)


@dataclass(frozen=True)
class Malformed:
    drawn: Drawn

    def __str__(self) -> str:
        return "a malformed nonce (%s)" % self.drawn.tier


@dataclass(frozen=True)
class Sign:
    action: str

    def __str__(self) -> str:
        return "a user action signed for %s" % self.action


@dataclass(frozen=True)
class Spend:
    which: int

    def __str__(self) -> str:
        return "user action #%d of the walk spent on its own request" % (self.which + 1)


@dataclass(frozen=True)
class Misuse:
    which: int

    def __str__(self) -> str:
        return "user action #%d of the walk spent on the other request" % (self.which + 1)


Step = Fresh | Reuse | Malformed | Sign | Spend | Misuse
WHICH = st.integers(0, STEPS - 1)
#: A reuse first: Hypothesis' first, simplest walk is then a dozen reuses of nothing yet, sending nothing.
STEP = st.one_of(st.builds(Reuse, WHICH, st.tuples(PADDING, PADDING)), st.just(Fresh()), st.builds(Malformed, invalid_nonces()),
                 st.builds(Sign, st.sampled_from(ACTIONS)), st.builds(Spend, WHICH), st.builds(Misuse, WHICH))
#: A batch of walks, each of ``STEPS`` steps (as a state machine runs its most steps: short walks seldom get far).
WALKS = st.lists(st.lists(STEP, min_size=STEPS, max_size=STEPS), min_size=BATCH, max_size=BATCH)


@dataclass
class Walk:
    """One walk against the server: what it has used so far, and the steps taken (for the failure)."""

    client: DfnsClient
    other_app: str
    catalog: Catalog
    nonces: list[str] = field(default_factory=list)
    signed: list[tuple[str, str]] = field(default_factory=list)
    consumed: set[str] = field(default_factory=set)
    taken: list[str] = field(default_factory=list)
    #: The other app was deactivated by a step: the test switches it on again when its walks end.
    deactivated: bool = False

    def path(self, action: str) -> str:
        return "/auth/apps/%s/%s" % (self.other_app, action)

    def take(self, steps: list[Step]) -> None:
        for step in steps:
            self.taken.append(self.describe(step))
            self.step(step)

    def describe(self, step: Step) -> str:
        """The step as it is taken: which nonce or user action of the walk it uses (its index, modulo theirs)."""
        pool = self.nonces if isinstance(step, Reuse) else self.signed
        if isinstance(step, (Reuse, Spend, Misuse)) and pool:
            return str(type(step)(**{**step.__dict__, "which": step.which % len(pool)}))
        return str(step)

    def step(self, step: Step) -> None:
        if isinstance(step, Fresh):
            nonce = make_nonce()
            self.succeeded(self.client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}))
            self.nonces.append(nonce)
        elif isinstance(step, Reuse) and self.nonces:
            nonce = self.nonces[step.which % len(self.nonces)]
            exchange = self.client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": step.pad[0] + nonce + step.pad[1]})
            self.documented(exchange, "nonce-reused")
        elif isinstance(step, Malformed):
            exchange = self.client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": step.drawn.value})
            self.documented(exchange, "nonce-missing-or-invalid")
        elif isinstance(step, Sign):
            self.signed.append((step.action, self.client.user_action("PUT", self.path(step.action), b"{}")))
        elif isinstance(step, Spend) and self.signed:
            action, token = self.signed[step.which % len(self.signed)]
            exchange = self.client.request("PUT", self.path(action), headers={"X-DFNS-USERACTION": token})
            self.deactivated |= action == "deactivate" and 200 <= exchange.status < 300
            if token in self.consumed:
                self.documented(exchange, "useraction-reused")
            else:
                self.succeeded(exchange)
                self.consumed.add(token)
        elif isinstance(step, Misuse) and self.signed:
            action, token = self.signed[step.which % len(self.signed)]
            other = ACTIONS[1 - ACTIONS.index(action)]
            exchange = self.client.request("PUT", self.path(other), headers={"X-DFNS-USERACTION": token})
            self.deactivated |= other == "deactivate" and 200 <= exchange.status < 300  # a broken server let it through
            self.documented(exchange, "useraction-missing-or-invalid")
        else:
            self.taken[-1] += " (nothing to use yet: skipped)"

    def walked(self) -> str:
        return "walk:\n" + "\n".join("  %d. %s" % (n, step) for n, step in enumerate(self.taken, 1))

    def documented(self, exchange: Exchange, error_id: str) -> None:
        error = self.catalog.by_id(error_id)
        try:
            assert_as_documented(exchange, error, title="[replay model] " + self.taken[-1])
        except ContractViolation as exc:
            raise ContractViolation(replace(exc.record, context=self.walked())) from None

    def succeeded(self, exchange: Exchange) -> None:
        try:
            assert_success(exchange, title="[replay model] %s: expected 2xx" % self.taken[-1])
        except ContractViolation as exc:
            raise ContractViolation(replace(exc.record, context=self.walked())) from None


@pytest.mark.exercises(*CHECKED)
@given(walks=WALKS)
def test_replay_rules_hold_in_any_order(walks: list[list[Step]], dfns_client: DfnsClient, dfns_profile: Profile,
                                        dfns_cleanup: Cleanup, dfns_catalog: Catalog, count_examples) -> None:
    dfns_cleanup.keep_other_app_active(dfns_profile["otherAppId"])
    taken = [Walk(dfns_client, dfns_profile["otherAppId"], dfns_catalog) for _ in walks]

    def walk(index: int) -> None:
        count_examples()
        taken[index].take(walks[index])

    try:
        at_once(dfns_client, walk, range(len(walks)), label=lambda index: "a walk of the replay model")
    finally:  # as every case does: the other app is left as it was found, active
        if any(each.deactivated for each in taken):
            switch_on(dfns_client, taken[0].path("activate"))


def switch_on(client: DfnsClient, path: str) -> None:
    """Activate the other app; if that fails, the session's cleanup does it, and the walks' verdict stands."""
    try:
        client.request("PUT", path, sign=True)
    except (Exception, EnvironmentFailure):  # noqa: BLE001 - registered with the cleanup before any walk
        pass
