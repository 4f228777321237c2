"""One-time values under concurrency: of many simultaneous uses, exactly one may pass.

A replay check that looks, then records, lets several concurrent requests
through; the sequential reuse cases cannot see that. These cases count
towards the documented errors they extend, and take their profile needs and
safety from them.
"""


import pytest

from dfns_contract.client import DfnsClient, Exchange
from dfns_contract.contract.catalog import DocumentedError
from dfns_contract.contract.cleanup import Cleanup
from dfns_contract.contract.expectations import ContractViolation, actual_of, assert_as_documented, assert_success
from dfns_contract.contract.failure_record import STATUS, Expected, FailureRecord
from dfns_contract.contract.profile import Profile
from dfns_contract.contract.races import DEFAULT_SENDERS, send_at_once
from dfns_contract.contract.recipes import RecipeContext
from dfns_contract.contract.reference_recipes import TRANSFERS, created_once, idempotency_problems, raced_transfer
from dfns_contract.wire.nonce import make_nonce

# Many requests each: they run in their turn, first (see the plugin's ordering).
pytestmark = pytest.mark.heavy


def split(exchanges: list[Exchange]) -> tuple[list[Exchange], list[Exchange]]:
    passed = [e for e in exchanges if 200 <= e.status < 300]
    return passed, [e for e in exchanges if e not in passed]


def race_lost(title: str, expected: str, shown: list[Exchange]) -> ContractViolation:
    """A race's failure as a record: what was expected of the burst, the first exchange shown as curl and response,
    the others' responses after it."""
    first = shown[0] if shown else None
    return ContractViolation(FailureRecord(
        title, expected=Expected(expected), differed=(STATUS,),
        actual=actual_of(first) if first is not None else None, curl=first.curl() if first is not None else None,
        response=first.described_response() if first is not None else None,
        context="\n".join(e.describe() for e in shown[1:]) or None))


def exactly_one_passed(exchanges: list[Exchange], race: str, what: str) -> Exchange:
    passed, rejected = split(exchanges)
    if len(passed) != 1:
        raise race_lost("[%s] %d requests with %s at once: %d passed, expected exactly 1" % (
            race, DEFAULT_SENDERS, what, len(passed)), "exactly 1 of %d answered 2xx" % DEFAULT_SENDERS,
            passed[:3] or rejected[:1])
    return passed[0]


def rejected_as_documented(exchanges: list[Exchange], error: DocumentedError, race: str) -> None:
    for exchange in split(exchanges)[1]:
        assert_as_documented(exchange, error, title="[%s] a concurrent reuse" % race)


@pytest.mark.documented_error("nonce-reused")
def test_one_nonce_sent_at_once_passes_once(dfns_client: DfnsClient, dfns_error: DocumentedError) -> None:
    nonce = make_nonce()
    exchanges = send_at_once(dfns_client, lambda c: c.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}))
    exactly_one_passed(exchanges, "nonce-reused-race", "one nonce")
    rejected_as_documented(exchanges, dfns_error, "nonce-reused-race")


@pytest.mark.documented_error("useraction-reused")
def test_one_user_action_used_at_once_passes_once(dfns_client: DfnsClient, dfns_profile: Profile,
                                                  dfns_cleanup: Cleanup, dfns_error: DocumentedError) -> None:
    dfns_cleanup.keep_other_app_active(dfns_profile["otherAppId"])
    path = "/auth/apps/%s/activate" % dfns_profile["otherAppId"]
    token = dfns_client.user_action("PUT", path, b"{}")
    exchanges = send_at_once(dfns_client, lambda c: c.request("PUT", path, headers={"X-DFNS-USERACTION": token}))
    first = exactly_one_passed(exchanges, "useraction-reused-race", "one user action")
    assert_success(first, title="[useraction-reused-race] the first use")
    rejected_as_documented(exchanges, dfns_error, "useraction-reused-race")


@pytest.mark.documented_error("external-id-conflict")
def test_one_external_id_sent_at_once_creates_one_transfer(recipe_context: RecipeContext,
                                                           dfns_error: DocumentedError) -> None:
    """The idempotency page: the identical request answers the transfer first created, however many are in flight
    (a store that checks, then records, creates one per request). Any 409 among them is the documented one. The
    race is the process's one transfer (``reference_recipes.raced_transfer``: the conflict cases conflict with
    it); its senders are the run's request plan's (``request_plan.py``: fewer behind a trial quota)."""
    ctx = recipe_context
    raced = raced_transfer(ctx)
    body, exchanges = raced.body, raced.exchanges
    passed, others = split(exchanges)
    created = sorted({e.json.get("id") for e in passed if isinstance(e.json, dict)}, key=str)
    if len(created) != 1:
        raise race_lost("[external-id-conflict-race] %d identical transfers at once answered %d transfers (%s), "
                        "expected one" % (len(exchanges), len(created), ", ".join(map(str, created))),
                        "one transfer, answered to every identical request", passed[:2] or others[:1])
    for conflict in others:
        assert_as_documented(conflict, dfns_error, title="[external-id-conflict-race] an identical request in flight")
        assert not idempotency_problems(passed[0], passed[0], conflict, body["externalId"])
    problems = created_once(ctx, body["externalId"], ctx.path(TRANSFERS))
    assert not problems, "[external-id-conflict-race] " + "\n".join(problems)
