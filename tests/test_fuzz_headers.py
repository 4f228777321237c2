"""Fuzz every documented header: each invalid value gets that header's documented error.

Each example differs from a valid request (the fixed cases' control) only in
the fuzzed header, and in how it spells header names (drawn too: names are
case-insensitive, and HTTP/2 sends them in lower case). Never a 5xx, never a non-JSON body: the response audit of
the client checks that on every exchange. A failing example shows the request
as a runnable curl. Profile needs and safety come from the documented errors
each property is about; the Hypothesis budget from ``--dfns-hypothesis-profile``.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfns_contract.client import DfnsClient, Exchange
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.contract.cleanup import Cleanup
from dfns_contract.contract.expectations import ContractViolation, assert_documented_error, documented_error_problems
from dfns_contract.contract.profile import Profile
from dfns_contract.contract.strategies import (
    PADDING,
    Drawn,
    invalid_app_ids,
    invalid_bearer_tokens,
    invalid_nonces,
    header_spellings,
    invalid_user_actions,
    valid_nonces,
)

# Many requests each: under pytest-xdist they are handed out first (see the plugin).
pytestmark = pytest.mark.heavy


def expect(exchange: Exchange, error: DocumentedError, header: str, drawn: Drawn) -> None:
    assert_documented_error(
        exchange, error.status, error.message, doc=error.doc_reference,
        title="[fuzz %s, tier %s] value %r" % (header, drawn.tier, (drawn.value or "")[:80]))


@pytest.mark.documented_error("nonce-missing-or-invalid")
@given(drawn=invalid_nonces(), spelling=header_spellings())
def test_fuzz_invalid_nonce(drawn, spelling, dfns_client: DfnsClient, dfns_error: DocumentedError, count_examples) -> None:
    count_examples()
    exchange = dfns_client.spelled(spelling).request("GET", "/auth/apps", headers={"X-DFNS-NONCE": drawn.value})
    expect(exchange, dfns_error, "X-DFNS-NONCE", drawn)


@pytest.mark.documented_error("nonce-reused")
@given(drawn=valid_nonces(), pad=st.tuples(PADDING, PADDING), spelling=header_spellings())
def test_fuzz_valid_nonce_passes_once(drawn, pad, spelling, dfns_client: DfnsClient, dfns_error: DocumentedError,
                                      count_examples) -> None:
    """A fresh nonce of any legal shape, its header named in any case, is accepted; the same nonce again,
    padded otherwise, is a reuse."""
    count_examples()
    dfns_client = dfns_client.spelled(spelling)
    first = dfns_client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": drawn.value})
    if not 200 <= first.status < 300:
        raise ContractViolation("[fuzz X-DFNS-NONCE, tier %s, header names %s] a valid fresh nonce was refused\n%s"
                                % (drawn.tier, spelling.name, first.describe()))
    again = pad[0] + drawn.value.strip() + pad[1]
    second = dfns_client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": again})
    expect(second, dfns_error, "X-DFNS-NONCE (reused)", drawn)


@pytest.mark.documented_error("no-jwt")
@given(data=st.data())
def test_fuzz_invalid_authorization(data, dfns_client: DfnsClient, dfns_profile: Profile,
                                    dfns_error: DocumentedError, count_examples) -> None:
    count_examples()
    drawn = data.draw(invalid_bearer_tokens(dfns_profile["authToken"]), label="Authorization")
    client = dfns_client.spelled(data.draw(header_spellings(), label="header names"))
    exchange = client.request("GET", "/auth/apps", headers={"Authorization": drawn.value})
    expect(exchange, dfns_error, "Authorization", drawn)


@pytest.mark.documented_error("useraction-missing-or-invalid")
@given(data=st.data())
def test_fuzz_invalid_user_action(data, dfns_client: DfnsClient, dfns_profile: Profile, dfns_cleanup: Cleanup,
                                  dfns_error: DocumentedError, count_examples) -> None:
    dfns_cleanup.keep_other_app_active(dfns_profile["otherAppId"])  # it activates only if broken
    count_examples()
    drawn = data.draw(invalid_user_actions(dfns_profile["authToken"]), label="X-DFNS-USERACTION")
    path = "/auth/apps/%s/activate" % dfns_profile["otherAppId"]
    client = dfns_client.spelled(data.draw(header_spellings(), label="header names"))
    exchange = client.request("PUT", path, headers={"X-DFNS-USERACTION": drawn.value})
    expect(exchange, dfns_error, "X-DFNS-USERACTION", drawn)


# The docs name no error for a bad app id; its requests are those of the no-jwt cases (read-only).
@pytest.mark.exercises("no-jwt")
@given(data=st.data())
def test_fuzz_invalid_app_id(data, dfns_client: DfnsClient, dfns_profile: Profile, dfns_catalog: Catalog,
                             count_examples) -> None:
    """Any documented 4xx in the envelope, never a 5xx."""
    count_examples()
    documented_4xx = sorted({(e.status, e.message) for e in dfns_catalog.errors if e.status < 500 and not e.template_keys()})
    drawn = data.draw(invalid_app_ids(dfns_profile["appId"]), label="X-DFNS-APPID")
    client = dfns_client.spelled(data.draw(header_spellings(), label="header names"))
    exchange = client.request("GET", "/auth/apps", headers={"X-DFNS-APPID": drawn.value})
    if all(documented_error_problems(exchange, status, message) for status, message in documented_4xx):
        raise ContractViolation(
            "[fuzz X-DFNS-APPID, tier %s] expected one of the documented 4xx errors, got HTTP %d\n%s"
            % (drawn.tier, exchange.status, exchange.describe()))
