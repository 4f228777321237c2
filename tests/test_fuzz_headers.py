"""Fuzz every documented header: each invalid value gets that header's documented error.

Each value differs from a valid request (the fixed cases' control) only in
the fuzzed header, and in how it spells header names (drawn too: names are
case-insensitive, and HTTP/2 sends them in lower case). Never a 5xx, never a non-JSON body: the response audit of
the client checks that on every exchange. A failing value shows the request
as a runnable curl. Profile needs and safety come from the documented errors
each property is about; the Hypothesis budget from ``--dfns-hypothesis-profile``.
One example is a batch of values sent at once (``strategies.batches``): the
values do not depend on each other, and against a remote target a batch costs
one round trip.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfns_contract.client import DfnsClient, Exchange
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.contract.cleanup import Cleanup
from dfns_contract.contract.concurrency import at_once
from dfns_contract.contract.expectations import (
    ContractViolation,
    assert_as_documented,
    assert_success,
    documented_error_findings,
    expected_error,
    violation,
)
from dfns_contract.contract.failure_record import shown_value
from dfns_contract.contract.profile import Profile
from dfns_contract.contract.strategies import (
    PADDING,
    Drawn,
    batches,
    header_spellings,
    invalid_app_ids,
    invalid_bearer_tokens,
    invalid_nonces,
    invalid_user_actions,
    valid_nonces,
)

# Many requests each: they run in their turn, first (see the plugin's ordering).
pytestmark = pytest.mark.heavy


def expect(exchange: Exchange, error: DocumentedError, header: str, drawn: Drawn) -> None:
    """The drawn value is named once, in the failure's ``drawn`` (the curl sends it, the title names its tier)."""
    assert_as_documented(exchange, error, title="[fuzz %s, tier %s]" % (header, drawn.tier), drawn=shown_value(drawn.value))


@pytest.mark.documented_error("nonce-missing-or-invalid")
@given(batch=batches(st.tuples(invalid_nonces(), header_spellings())))
def test_fuzz_invalid_nonce(batch, dfns_client: DfnsClient, dfns_error: DocumentedError, count_examples) -> None:
    def check(value) -> None:
        drawn, spelling = value
        count_examples()
        exchange = dfns_client.spelled(spelling).request("GET", "/auth/apps", headers={"X-DFNS-NONCE": drawn.value})
        expect(exchange, dfns_error, "X-DFNS-NONCE", drawn)

    at_once(dfns_client, check, batch)


@pytest.mark.documented_error("nonce-reused")
@given(batch=batches(st.tuples(valid_nonces(), st.tuples(PADDING, PADDING), header_spellings())))
def test_fuzz_valid_nonce_passes_once(batch, dfns_client: DfnsClient, dfns_error: DocumentedError,
                                      count_examples) -> None:
    """A fresh nonce of any legal shape, its header named in any case, is accepted; the same nonce again,
    padded otherwise, is a reuse."""
    def check(value) -> None:
        drawn, pad, spelling = value
        count_examples()
        client = dfns_client.spelled(spelling)
        first = client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": drawn.value})
        assert_success(first, title="[fuzz X-DFNS-NONCE, tier %s, header names %s] a valid fresh nonce was refused"
                       % (drawn.tier, spelling.name), drawn=shown_value(drawn.value))
        again = pad[0] + drawn.value.strip() + pad[1]
        second = client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": again})
        expect(second, dfns_error, "X-DFNS-NONCE (reused)", drawn)

    at_once(dfns_client, check, batch)


@pytest.mark.documented_error("no-jwt")
@given(data=st.data())
def test_fuzz_invalid_authorization(data, dfns_client: DfnsClient, dfns_profile: Profile,
                                    dfns_error: DocumentedError, count_examples) -> None:
    batch = data.draw(batches(st.tuples(invalid_bearer_tokens(dfns_profile["authToken"]), header_spellings())),
                      label="Authorization, header names")

    def check(value) -> None:
        drawn, spelling = value
        count_examples()
        exchange = dfns_client.spelled(spelling).request("GET", "/auth/apps", headers={"Authorization": drawn.value})
        expect(exchange, dfns_error, "Authorization", drawn)

    at_once(dfns_client, check, batch)


@pytest.mark.documented_error("useraction-missing-or-invalid")
@given(data=st.data())
def test_fuzz_invalid_user_action(data, dfns_client: DfnsClient, dfns_profile: Profile, dfns_cleanup: Cleanup,
                                  dfns_error: DocumentedError, count_examples) -> None:
    dfns_cleanup.keep_other_app_active(dfns_profile["otherAppId"])  # it activates only if broken
    batch = data.draw(batches(st.tuples(invalid_user_actions(dfns_profile["authToken"]), header_spellings())),
                      label="X-DFNS-USERACTION, header names")
    path = "/auth/apps/%s/activate" % dfns_profile["otherAppId"]

    def check(value) -> None:
        drawn, spelling = value
        count_examples()
        exchange = dfns_client.spelled(spelling).request("PUT", path, headers={"X-DFNS-USERACTION": drawn.value})
        expect(exchange, dfns_error, "X-DFNS-USERACTION", drawn)

    at_once(dfns_client, check, batch)


# The docs name no error for a bad app id; its requests are those of the no-jwt cases (read-only).
@pytest.mark.requires_header("X-DFNS-APPID")
@pytest.mark.exercises("no-jwt")
@given(data=st.data())
def test_fuzz_invalid_app_id(data, dfns_client: DfnsClient, dfns_profile: Profile, dfns_catalog: Catalog,
                             count_examples) -> None:
    """Any documented 4xx in the envelope, never a 5xx; a failure is judged against the documented 4xx nearest to
    the answer (its status, else the first), so it says exactly what differed: the status, or the message."""
    documented_4xx = sorted({(e.status, e.message) for e in dfns_catalog.errors if e.status < 500 and not e.template_keys()})
    batch = data.draw(batches(st.tuples(invalid_app_ids(dfns_profile["appId"]), header_spellings())),
                      label="X-DFNS-APPID, header names")

    def check(value) -> None:
        drawn, spelling = value
        count_examples()
        exchange = dfns_client.spelled(spelling).request("GET", "/auth/apps", headers={"X-DFNS-APPID": drawn.value})
        judged = [(documented_error_findings(exchange, status, message), status, message)
                  for status, message in documented_4xx]
        if all(findings for findings, _, _ in judged):
            findings, status, message = min(judged, key=lambda found: (found[1] != exchange.status, len(found[0])))
            expected = expected_error(status, message)
            others = "; ".join("HTTP %d %r" % pair for pair in documented_4xx)
            raise ContractViolation(violation(
                "[fuzz X-DFNS-APPID, tier %s] not one of the documented 4xx errors (the nearest: HTTP %d)"
                % (drawn.tier, status), exchange, findings, expected, drawn=shown_value(drawn.value),
                context="  documented 4xx errors accepted: " + others))

    at_once(dfns_client, check, batch)
