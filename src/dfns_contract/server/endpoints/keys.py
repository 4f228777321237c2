"""Keys (dfns-docs-2026 ``endpoints/lifecycle-archive-deactivate-delete.md``): Delete Key alone.

"Deletes the key and all wallets using this key. Once deleted, keys (and wallets) are not usable anymore":
the only way the reference gives to retire a wallet, so ``dfns-contract teardown`` undoes a wallet it made
this way. The page names no required permission and no error: the server requires none beyond a signed
request of the org, and answers an unknown key with its own 404.
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, ErrorId
from ..pipeline import Call, Endpoint
from ..wallet_store import NETWORKS
from ...wire.nonce import iso_now


def delete_key(call: Call) -> dict[str, Any]:
    key_id = call.param("keyId")
    deleted = call.state.world.wallets.delete_key(call.user.org_id, key_id, call.now)
    if not deleted:
        raise ApiError(ErrorId.KEY_NOT_FOUND, details={"keyId": key_id, "orgId": call.user.org_id})
    network = NETWORKS[deleted[0].network]
    return {"id": key_id, "scheme": network.scheme, "curve": network.curve, "publicKey": deleted[0].public_key,
            "status": "Archived", "dateDeleted": iso_now(call.now)}


ENDPOINTS = (Endpoint("DELETE", "/keys/{keyId}", delete_key, user_action=True),)
