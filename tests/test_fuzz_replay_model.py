"""A model of the replay rules, checked against the server by interleaving steps at random.

Fresh, reused and malformed nonces and user actions signed for one request
and spent on it or on another: each nonce is accepted at most once, each user
action is consumed once and only by the request it was signed for.
"""

import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from dfns_contract.client import DfnsClient
from dfns_contract.client.chains import CHAINS
from dfns_contract.contract.catalog import Catalog
from dfns_contract.contract.cleanup import Cleanup
from dfns_contract.contract.concurrency import at_once, lanes_of
from dfns_contract.contract.expectations import ContractViolation, assert_documented_error
from dfns_contract.contract.profile import Profile
from dfns_contract.contract.strategies import PADDING, invalid_nonces
from dfns_contract.wire.nonce import make_nonce

# Many requests each: they run in their turn, first (see the plugin's ordering).
pytestmark = pytest.mark.heavy

#: The documented errors the model checks (their needs and safety are the test's).
CHECKED = ("nonce-reused", "nonce-missing-or-invalid", "useraction-reused", "useraction-missing-or-invalid")
ACTIONS = ("activate", "deactivate")


class ReplayModel(RuleBasedStateMachine):
    client: DfnsClient
    other_app: str
    catalog: Catalog
    nonces = Bundle("nonces")
    user_actions = Bundle("user_actions")

    def __init__(self) -> None:
        super().__init__()
        self.consumed: set[str] = set()

    def path(self, action: str) -> str:
        return "/auth/apps/%s/%s" % (self.other_app, action)

    def documented(self, exchange, error_id: str, step: str) -> None:
        error = self.catalog.by_id(error_id)
        assert_documented_error(exchange, error.status, error.message, title="[replay model] " + step,
                                doc=error.doc_reference)

    def succeeded(self, exchange, step: str) -> None:
        if not 200 <= exchange.status < 300:
            raise ContractViolation("[replay model] %s: expected 2xx\n%s" % (step, exchange.describe()))

    @initialize()
    def switch_on(self) -> None:
        self.client.request("PUT", self.path("activate"), sign=True)

    @rule(target=nonces)
    def fresh_nonce(self) -> str:
        nonce = make_nonce()
        self.succeeded(self.client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}), "a fresh nonce")
        return nonce

    @rule(nonce=nonces, pad=st.tuples(PADDING, PADDING))
    def reused_nonce(self, nonce: str, pad: tuple[str, str]) -> None:
        exchange = self.client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": pad[0] + nonce + pad[1]})
        self.documented(exchange, "nonce-reused", "a nonce sent again")

    @rule(drawn=invalid_nonces())
    def malformed_nonce(self, drawn) -> None:
        exchange = self.client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": drawn.value})
        self.documented(exchange, "nonce-missing-or-invalid", "a malformed nonce (%s)" % drawn.tier)

    @rule(target=user_actions, action=st.sampled_from(ACTIONS))
    def sign(self, action: str) -> tuple[str, str]:
        return action, self.client.user_action("PUT", self.path(action), b"{}")

    @rule(signed=user_actions)
    def spend(self, signed: tuple[str, str]) -> None:
        action, token = signed
        exchange = self.client.request("PUT", self.path(action), headers={"X-DFNS-USERACTION": token})
        if token in self.consumed:
            self.documented(exchange, "useraction-reused", "a user action spent twice")
        else:
            self.succeeded(exchange, "a user action spent on its own request")
            self.consumed.add(token)

    @rule(signed=user_actions)
    def misuse(self, signed: tuple[str, str]) -> None:
        action, token = signed
        other = ACTIONS[1 - ACTIONS.index(action)]
        exchange = self.client.request("PUT", self.path(other), headers={"X-DFNS-USERACTION": token})
        self.documented(exchange, "useraction-missing-or-invalid", "a user action spent on another request")

    def teardown(self) -> None:
        self.client.request("PUT", self.path("activate"), sign=True)


@pytest.mark.exercises(*CHECKED)
def test_replay_rules_hold_in_any_order(dfns_client: DfnsClient, dfns_profile: Profile, dfns_cleanup: Cleanup,
                                        dfns_catalog: Catalog, dfns_hypothesis_settings: settings,
                                        dfns_walks: int, dfns_seed, count_examples) -> None:
    """Walks of the model at once, each a chain of dependent steps: several runs of the state machine, each
    from a seed of its own (derived from the run's, so a failure replays with --hypothesis-seed)."""
    dfns_cleanup.keep_other_app_active(dfns_profile["otherAppId"])
    streams = max(1, min(lanes_of(dfns_client), dfns_walks))

    class Bound(ReplayModel):
        client = dfns_client
        other_app = dfns_profile["otherAppId"]
        catalog = dfns_catalog

        def __init__(self) -> None:
            super().__init__()
            count_examples()
            CHAINS.begin("a walk of the replay model")

        def teardown(self) -> None:
            try:
                super().teardown()
            finally:
                CHAINS.end()

    # A bounded walk: each step is a network round trip (or a whole signing flow), so a
    # failing walk is reported as found: shrinking it would replay it hundreds of times.
    # Each stream first walks the simplest path (Hypothesis tries it first), then its share of the walks.
    walk_settings = settings(dfns_hypothesis_settings, max_examples=1 + -(-dfns_walks // streams),
                             stateful_step_count=12, phases=[Phase.explicit, Phase.reuse, Phase.generate])
    at_once(dfns_client, lambda stream: run_state_machine_as_test(dfns_seed(Bound, stream=stream),
                                                                  settings=walk_settings),
            range(streams), label=lambda stream: "replay model, stream %d" % stream)
