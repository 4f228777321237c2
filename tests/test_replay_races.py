"""One-time values under concurrency: of many simultaneous uses, exactly one may pass.

A replay check that looks, then records, lets several concurrent requests
through; the sequential reuse cases cannot see that. These cases count
towards the documented errors they extend.
"""

import pytest

from dfns_contract.cleanup import Cleanup
from dfns_contract.client import DfnsClient
from dfns_contract.expectations import assert_documented_error, assert_success
from dfns_contract.nonce import make_nonce
from dfns_contract.profile import Profile
from dfns_contract.races import DEFAULT_SENDERS, send_at_once
from dfns_contract.replay import skip_reason

from .conftest import catalog

# Many requests each: under pytest-xdist they are handed out first (see the plugin).
pytestmark = pytest.mark.heavy

NONCE_REUSED = catalog().by_id("nonce-reused")
USERACTION_REUSED = catalog().by_id("useraction-reused")


def split(exchanges):
    passed = [e for e in exchanges if 200 <= e.status < 300]
    return passed, [e for e in exchanges if e not in passed]


def require(profile: Profile, *keys: str) -> None:
    missing = profile.missing(keys)
    if missing:
        pytest.skip(skip_reason(missing))


@pytest.mark.documented_error(NONCE_REUSED.id)
def test_one_nonce_sent_at_once_passes_once(dfns_client: DfnsClient, dfns_profile: Profile) -> None:
    require(dfns_profile, "appId", "authToken")
    nonce = make_nonce()
    exchanges = send_at_once(dfns_client, lambda c: c.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}))
    passed, rejected = split(exchanges)
    title = "[nonce-reused-race] %d requests with one nonce at once: %d passed, expected exactly 1" % (
        DEFAULT_SENDERS, len(passed))
    assert len(passed) == 1, title + "\n" + "\n".join(e.describe() for e in passed[:3] or rejected[:1])
    for exchange in rejected:
        assert_documented_error(exchange, NONCE_REUSED.status, NONCE_REUSED.message,
                                title="[nonce-reused-race] a concurrent reuse", doc=NONCE_REUSED.doc_reference)


@pytest.mark.destructive
@pytest.mark.documented_error(USERACTION_REUSED.id)
def test_one_user_action_used_at_once_passes_once(dfns_client: DfnsClient, dfns_profile: Profile, dfns_cleanup: Cleanup) -> None:
    require(dfns_profile, "appId", "authToken", "credId", "privateKey", "otherAppId")
    dfns_cleanup.keep_other_app_active(dfns_profile["otherAppId"])
    path = "/auth/apps/%s/activate" % dfns_profile["otherAppId"]
    token = dfns_client.user_action("PUT", path, b"{}")
    exchanges = send_at_once(dfns_client, lambda c: c.request("PUT", path, headers={"X-DFNS-USERACTION": token}))
    passed, rejected = split(exchanges)
    title = "[useraction-reused-race] %d requests with one user action at once: %d passed, expected exactly 1" % (
        DEFAULT_SENDERS, len(passed))
    assert len(passed) == 1, title + "\n" + "\n".join(e.describe() for e in passed[:3] or rejected[:1])
    assert_success(passed[0], title="[useraction-reused-race] the first use")
    for exchange in rejected:
        assert_documented_error(exchange, USERACTION_REUSED.status, USERACTION_REUSED.message,
                                title="[useraction-reused-race] a concurrent reuse", doc=USERACTION_REUSED.doc_reference)
