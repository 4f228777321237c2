"""Fuzz every documented header: each invalid value gets that header's documented error.

Each example differs from a valid request (the fixed cases' control) only in
the fuzzed header. Never a 5xx, never a non-JSON body: the response audit of
the client checks that on every exchange. A failing example shows the request
as a runnable curl.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfns_contract.cleanup import Cleanup
from dfns_contract.client import DfnsClient
from dfns_contract.expectations import ContractViolation, assert_documented_error, documented_error_problems
from dfns_contract.profile import Profile
from dfns_contract.strategies import (
    PADDING, invalid_app_ids, invalid_bearer_tokens, invalid_nonces, invalid_user_actions, valid_nonces)

from .conftest import catalog
from .test_replay_races import require

# Many requests each: under pytest-xdist they are handed out first (see the plugin).
pytestmark = pytest.mark.heavy

NONCE_INVALID = catalog().by_id("nonce-missing-or-invalid")
NONCE_REUSED = catalog().by_id("nonce-reused")
NOT_AUTHENTICATED = catalog().by_id("no-jwt")
USERACTION_INVALID = catalog().by_id("useraction-missing-or-invalid")
DOCUMENTED_4XX = {(e.status, e.message) for e in catalog().errors if e.status < 500 and not e.template_keys()}


def expect(exchange, error, header, drawn) -> None:
    assert_documented_error(
        exchange, error.status, error.message, doc=error.doc_reference,
        title="[fuzz %s, tier %s] value %r" % (header, drawn.tier, (drawn.value or "")[:80]))


@pytest.mark.documented_error(NONCE_INVALID.id)
@given(drawn=invalid_nonces())
def test_fuzz_invalid_nonce(drawn, dfns_client: DfnsClient, dfns_profile: Profile, count_examples) -> None:
    require(dfns_profile, "appId", "authToken")
    count_examples()
    exchange = dfns_client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": drawn.value})
    expect(exchange, NONCE_INVALID, "X-DFNS-NONCE", drawn)


@pytest.mark.documented_error(NONCE_REUSED.id)
@given(drawn=valid_nonces(), pad=st.tuples(PADDING, PADDING))
def test_fuzz_valid_nonce_passes_once(drawn, pad, dfns_client: DfnsClient, dfns_profile: Profile, count_examples) -> None:
    """A fresh nonce of any legal shape is accepted; the same nonce again, padded otherwise, is a reuse."""
    require(dfns_profile, "appId", "authToken")
    count_examples()
    first = dfns_client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": drawn.value})
    if not 200 <= first.status < 300:
        raise ContractViolation("[fuzz X-DFNS-NONCE, tier %s] a valid fresh nonce was refused\n%s"
                                % (drawn.tier, first.describe()))
    again = pad[0] + drawn.value.strip() + pad[1]
    second = dfns_client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": again})
    expect(second, NONCE_REUSED, "X-DFNS-NONCE (reused)", drawn)


@pytest.mark.documented_error(NOT_AUTHENTICATED.id)
@given(data=st.data())
def test_fuzz_invalid_authorization(data, dfns_client: DfnsClient, dfns_profile: Profile, count_examples) -> None:
    require(dfns_profile, "appId", "authToken")
    count_examples()
    drawn = data.draw(invalid_bearer_tokens(dfns_profile["authToken"]), label="Authorization")
    exchange = dfns_client.request("GET", "/auth/apps", headers={"Authorization": drawn.value})
    expect(exchange, NOT_AUTHENTICATED, "Authorization", drawn)


@pytest.mark.destructive
@pytest.mark.documented_error(USERACTION_INVALID.id)
@given(data=st.data())
def test_fuzz_invalid_user_action(data, dfns_client: DfnsClient, dfns_profile: Profile, dfns_cleanup: Cleanup,
                                  count_examples) -> None:
    require(dfns_profile, "appId", "authToken", "otherAppId")
    dfns_cleanup.keep_other_app_active(dfns_profile["otherAppId"])  # it activates only if broken
    count_examples()
    drawn = data.draw(invalid_user_actions(dfns_profile["authToken"]), label="X-DFNS-USERACTION")
    path = "/auth/apps/%s/activate" % dfns_profile["otherAppId"]
    exchange = dfns_client.request("PUT", path, headers={"X-DFNS-USERACTION": drawn.value})
    expect(exchange, USERACTION_INVALID, "X-DFNS-USERACTION", drawn)


@given(data=st.data())
def test_fuzz_invalid_app_id(data, dfns_client: DfnsClient, dfns_profile: Profile, count_examples) -> None:
    """The docs name no error for a bad app id: any documented 4xx in the envelope, never a 5xx."""
    require(dfns_profile, "appId", "authToken")
    count_examples()
    drawn = data.draw(invalid_app_ids(dfns_profile["appId"]), label="X-DFNS-APPID")
    exchange = dfns_client.request("GET", "/auth/apps", headers={"X-DFNS-APPID": drawn.value})
    candidates = [documented_error_problems(exchange, status, message) for status, message in sorted(DOCUMENTED_4XX)]
    if all(candidates):
        raise ContractViolation(
            "[fuzz X-DFNS-APPID, tier %s] expected one of the documented 4xx errors, got HTTP %d\n%s"
            % (drawn.tier, exchange.status, exchange.describe()))
