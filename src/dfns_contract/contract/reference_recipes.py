"""Recipes of the errors the 2026 API reference documents that the errors pages did not.

The 2026 reference ("Error codes", restated in
``errors-page-versions/README.md``) documents statuses rather than messages,
so most of its entries check status, envelope and a non-empty message; the
few messages it does document (the 409's) are checked exactly. Its catalog
also reuses recipes of the pages' entries whose requests mean the same there
(``no-jwt``, ``useraction-missing-or-invalid``, ``forbidden-operation``,
``unknown-app``): those send no ``X-DFNS-NONCE`` or ``X-DFNS-APPID`` under it,
because the client sends the headers its version lists.

The recipes here:

* ``invalid-body``: Create User Action Signature Challenge with a malformed
  JSON body, without a required field, with a value outside a field's
  documented ones (``userActionHttpMethod``: POST, PUT, DELETE or GET) or of
  another type (``userActionPayload`` an object, not its JSON text): the
  page's three causes. Its control creates a challenge for a request the suite
  never sends: nothing changes.
* ``unknown-user``, ``unknown-wallet``, ``unknown-policy``: a read of an id no
  org has, next to the read of the profile's user, wallet or policy.
* ``external-id-conflict``: the API idempotency page
  (``dfns-docs-2024-10/advanced-topics/api-idempotency.md``). A transfer with
  a new ``externalId`` (control), the identical request again (control: 200
  and the transfer first created, nothing created twice), then the same
  ``externalId`` and one unit more: 409 with ``details.duplicate`` naming the
  first transfer. It moves ``transferAmount`` (default 1, the smallest unit)
  from ``walletId`` to ``transferTo``, which cannot be undone: the entry is
  ``irreversible``, and runs only where the profile names that wallet.
"""

from __future__ import annotations

import json
import secrets as random_source
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dfns_contract.contract import permissions, request_plan
from dfns_contract.contract.races import send_at_once
from dfns_contract.contract.recipes import RecipeContext, Trial, recipe

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient, Exchange

TOKEN = ("authToken",)
SIGNED = TOKEN + ("credId", "privateKey")
ACTION_INIT = "/auth/action/init"
TRANSFERS = "/wallets/{walletId}/transfers"
#: What a transfer of the suite moves unless the profile says (``transferAmount``): the smallest unit.
DEFAULT_TRANSFER_AMOUNT = "1"
#: Pages of the wallet's transfers read to count the ones with the case's externalId (newest first).
LISTED_PAGES = 5


def _action_init_body(ctx: RecipeContext) -> dict[str, str]:
    """A valid Create User Action Signature Challenge body, for a request the suite never sends."""
    return {
        "userActionPayload": "{}",
        "userActionHttpMethod": "GET",
        "userActionHttpPath": "/wallets",
        "userActionServerKind": "Api",
    }


def _malformed_json(ctx: RecipeContext) -> Exchange:
    admin = ctx.principal()
    headers = admin.headers()
    headers["Content-Type"] = "application/json"
    return admin.send("POST", ACTION_INIT, headers, b'{"userActionPayload": "{}", "userActionHttpMethod": ')


def _missing_field(ctx: RecipeContext) -> Exchange:
    body = _action_init_body(ctx)
    del body["userActionHttpPath"]
    return ctx.principal().request("POST", ACTION_INIT, body)


def _invalid_value(ctx: RecipeContext) -> Exchange:
    """A method outside the ones the endpoint documents (its OpenAPI enum: POST, PUT, DELETE, GET)."""
    return ctx.principal().request("POST", ACTION_INIT, {**_action_init_body(ctx), "userActionHttpMethod": "PATCH"})


def _wrong_type(ctx: RecipeContext) -> Exchange:
    """The payload as an object, where the endpoint documents a string (the JSON text of the signed body)."""
    return ctx.principal().request("POST", ACTION_INIT, {**_action_init_body(ctx), "userActionPayload": {}})


#: Bodies the reference's 400 is about ("missing required fields; invalid field values or types; malformed JSON
#: body"): (context) → the faulty request's exchange.
BAD_BODIES: dict[str, Callable[[RecipeContext], Exchange]] = {
    "malformed-json": _malformed_json,
    "missing-field": _missing_field,
    "invalid-value": _invalid_value,
    "wrong-type": _wrong_type,
}


@recipe("invalid-body", needs=TOKEN, variants=BAD_BODIES)
def invalid_body(ctx: RecipeContext, variant: str | None) -> Trial:
    control = ctx.admin_control("POST", ACTION_INIT, _action_init_body(ctx))
    return Trial(BAD_BODIES[variant or "malformed-json"](ctx), [control])


def unknown_id(prefix: str) -> str:
    """An id in Dfns' shape (``wa-xxxxx-xxxxx-xxxxxxxxxxxxxxxx``) that no org has."""
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    pick = lambda n: "".join(random_source.choice(alphabet) for _ in range(n))  # noqa: E731
    return "%s-%s-%s-%s" % (prefix, pick(5), pick(5), pick(16))


def _read_unknown(ctx: RecipeContext, known: str, unknown: str) -> Trial:
    admin = ctx.principal()
    return Trial(admin.request("GET", unknown), [admin.request("GET", known)])


@recipe("unknown-user", needs=TOKEN + ("endUserId",))
def unknown_user(ctx: RecipeContext, variant: str | None) -> Trial:
    return _read_unknown(ctx, ctx.path("/auth/users/{endUserId}"), "/auth/users/" + unknown_id("us"))


@recipe("unknown-wallet", needs=TOKEN + ("walletId",))
def unknown_wallet(ctx: RecipeContext, variant: str | None) -> Trial:
    return _read_unknown(ctx, ctx.path("/wallets/{walletId}"), "/wallets/" + unknown_id("wa"))


@recipe("unknown-policy", needs=TOKEN + ("policyId",))
def unknown_policy(ctx: RecipeContext, variant: str | None) -> Trial:
    return _read_unknown(ctx, ctx.path("/v2/policies/{policyId}"), "/v2/policies/" + unknown_id("plc"))


#: Another organisation's resources, read with this organisation's token (fault) and with the owner's (control):
#: variant → (the profile keys of the path, the path).
OTHER_ORG_READS: dict[str, tuple[tuple[str, ...], str]] = {
    "wallet": (("otherOrgWalletId",), "/wallets/{otherOrgWalletId}"),
    "transfer": (("otherOrgWalletId", "otherOrgTransferId"), "/wallets/{otherOrgWalletId}/transfers/{otherOrgTransferId}"),
    "user": (("otherOrgUserId",), "/auth/users/{otherOrgUserId}"),
    "app": (("otherOrgAppId",), "/auth/apps/{otherOrgAppId}"),
}


@recipe("other-org-resource", needs=TOKEN + ("otherOrgAuthToken",), variants=OTHER_ORG_READS,
        variant_needs={variant: keys for variant, (keys, _) in OTHER_ORG_READS.items()})
def other_org_resource(ctx: RecipeContext, variant: str | None) -> Trial:
    path = ctx.path(OTHER_ORG_READS[variant or "wallet"][1])
    owner = ctx.client.with_identity(ctx.profile["otherOrgAuthToken"], None)
    return Trial(ctx.principal().request("GET", path), [owner.request("GET", path)])


def other_amount(body: dict[str, Any]) -> dict[str, Any]:
    """The same transfer of one unit more: a different body that any network accepts as well as the first
    (another recipient might not be a valid address there, and be refused before the externalId is looked at)."""
    amount = body["amount"]
    return {**body, "amount": str(int(amount) + 1) if amount.isdigit() else amount + "0"}


#: The idempotency page's conflicts: the same externalId "with a different request body or wallet". Each
#: variant → (the profile, the first transfer's path and body) → the conflicting request's path and body.
CONFLICTS: dict[str, Callable[[Any, str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "other-amount": lambda profile, path, body: (path, other_amount(body)),
    "other-destination": lambda profile, path, body: (path, {**body, "to": profile["otherTransferTo"]}),
    "other-wallet": lambda profile, path, body: (TRANSFERS.format(walletId=profile["otherWalletId"]), body),
}


def transfer_body(ctx: RecipeContext, external_id: str) -> dict[str, str]:
    """A Native transfer of ``transferAmount`` (the smallest unit unless the profile says) to ``transferTo``."""
    return {"kind": "Native", "to": ctx.profile["transferTo"],
            "amount": ctx.profile.get("transferAmount") or DEFAULT_TRANSFER_AMOUNT, "externalId": external_id}


def announce_transfer(ctx: RecipeContext, body: dict[str, str]) -> None:
    """Before a transfer leaves: the cleanup names it, as nothing can undo it."""
    ctx.cleanup.created("transfer request of %s from wallet %s to %s, externalId %s" % (
        body["amount"], ctx.profile["walletId"], body["to"], body["externalId"]))


@dataclass(frozen=True)
class RacedTransfer:
    """Identical transfers sent at once (the race of ``tests/test_replay_races.py``): their body and answers."""

    body: dict[str, str]
    exchanges: list[Exchange]


def raced_transfer(ctx: RecipeContext) -> RacedTransfer:
    """The process's race of identical transfers: ``request_plan.race_senders`` of them, each signed beforehand,
    sent at once (``races.send_at_once``). Its transfer is also the one the conflict variants conflict with
    (``first_transfer``): one transfer, not two, per process."""
    def make() -> RacedTransfer:
        admin, path = ctx.principal(), ctx.path(TRANSFERS)
        body = transfer_body(ctx, ctx.name("transfer-" + random_source.token_hex(4)))
        announce_transfer(ctx, body)
        payload = json.dumps(body, separators=(",", ":")).encode()
        senders = request_plan.active().race_senders
        tokens = [admin.user_action("POST", path, payload) for _ in range(senders)]
        lock = threading.Lock()

        def send(sender: DfnsClient) -> Exchange:
            with lock:
                token = tokens.pop()
            return sender.request("POST", path, body, headers={"X-DFNS-USERACTION": token})

        return RacedTransfer(body, send_at_once(admin, send, senders=senders))

    return ctx.shared.once("external-id-conflict: race", make)


@dataclass(frozen=True)
class FirstTransfer:
    """The transfer the ``external-id-conflict`` variants conflict with: its body, the answer that created it,
    and the identical request sent again after it (the idempotency page's 200 with the transfer first created)."""

    external_id: str
    body: dict[str, str]
    first: Exchange
    again: Exchange


def first_transfer(ctx: RecipeContext) -> FirstTransfer:
    """One transfer for every variant of the process, and its identical repeat sent after the race: the
    variants' first two requests were the same, and each conflicts with it in its own way (``shared.py``). The
    transfer is the race's (``raced_transfer``); its first 2xx answer stands for its creation, its second for the
    repeat."""
    def make() -> FirstTransfer:
        raced = raced_transfer(ctx)
        passed = [e for e in raced.exchanges if 200 <= e.status < 300]
        first = (passed or raced.exchanges)[0]
        # A second 2xx of the race is an identical request answered after the transfer existed: the repeat the
        # page promises the first transfer to (a new id there is the fault). Only when the others were in flight
        # (409) is the repeat sent again, alone.
        again = passed[1] if len(passed) > 1 else ctx.principal().request("POST", ctx.path(TRANSFERS), raced.body,
                                                                            sign=True)
        return FirstTransfer(raced.body["externalId"], raced.body, first, again)

    return ctx.shared.once("external-id-conflict: first transfer", make)


@recipe("external-id-conflict", needs=SIGNED + ("walletId", "transferTo"), variants=CONFLICTS,
        variant_needs={"other-destination": ("otherTransferTo",), "other-wallet": ("otherWalletId",)})
def external_id_conflict(ctx: RecipeContext, variant: str | None) -> Trial:
    shared, path = first_transfer(ctx), ctx.path(TRANSFERS)
    other_path, other_body = CONFLICTS[variant or "other-amount"](ctx.profile, path, shared.body)
    fault = ctx.principal().request("POST", other_path, other_body, sign=True)
    broken = idempotency_problems(shared.first, shared.again, fault, shared.external_id)
    if not broken and _entity_id(shared.first) and request_plan.active().list_after_conflict:
        broken += created_once(ctx, shared.external_id, path, *((other_path,) if other_path != path else ()))
    return Trial(fault, [shared.first, shared.again], broken=broken)


@recipe("permission-assigned-twice", needs=SIGNED + ("limitedPrincipalId",))
def permission_assigned_twice(ctx: RecipeContext, variant: str | None) -> Trial:
    """The process's permission assigned to the limited principal (control), then assigned again (fault):
    ``permissions.assignment_sequence``."""
    shared = permissions.shared_permission(ctx)
    if shared.permission_id is None:
        return Trial(shared.created, [shared.created])  # its control failed, which says so
    sequence = permissions.assignment_sequence(ctx, shared.permission_id)
    if sequence.again is None:
        return Trial(sequence.assigned, [shared.created, sequence.assigned])
    return Trial(sequence.again, [shared.created, sequence.assigned])


def _entity_id(exchange: Exchange) -> str | None:
    try:
        body = exchange.json
    except ValueError:
        return None
    return body.get("id") if isinstance(body, dict) and isinstance(body.get("id"), str) else None


def idempotency_problems(first: Exchange, again: Exchange, conflict: Exchange, external_id: str) -> list[str]:
    """What the idempotency page promises beyond the 409's status, message and envelope.

    The identical request answers 200 with the transfer first created; the 409's ``details.duplicate``
    names that transfer and the externalId. Only judged when the first request succeeded (else its
    control failed, which says so).
    """
    created = _entity_id(first)
    if not 200 <= first.status < 300 or created is None:
        return []
    problems = []
    if again.status != 200 or _entity_id(again) != created:
        problems.append("the identical request with the same externalId must answer 200 with the transfer first "
                        "created (id %s); it got HTTP %d with id %s\n%s"
                        % (created, again.status, _entity_id(again), again.describe()))
    if conflict.status == 409:
        try:
            duplicate = conflict.json["error"]["details"]["duplicate"]
        except (ValueError, KeyError, TypeError):
            duplicate = None  # the entry's body schema reports a missing details.duplicate
        if isinstance(duplicate, dict) and (duplicate.get("id"), duplicate.get("externalId")) != (created, external_id):
            problems.append("the 409's details.duplicate must name the transfer first created: expected id %s and "
                            "externalId %s, got id %s and externalId %s\n%s"
                            % (created, external_id, duplicate.get("id"), duplicate.get("externalId"),
                               conflict.describe()))
    return problems


def listed_ids(client: DfnsClient, path: str, external_id: str) -> list[str] | None:
    """The ids of the transfers listed at ``path`` with ``external_id`` (newest first, ``LISTED_PAGES`` pages);
    None when the listing cannot be read (it is no part of the entry: nothing to say)."""
    found: list[str] = []
    token = None
    for _ in range(LISTED_PAGES):
        listed = client.request("GET", path + ("?paginationToken=%s" % token if token else ""))
        try:
            body = listed.json
            items, token = body["items"], body.get("nextPageToken")
        except (ValueError, KeyError, TypeError):
            return None
        found += [item.get("id") for item in items if isinstance(item, dict) and item.get("externalId") == external_id]
        if not token:
            break
    return found


def created_once(ctx: RecipeContext, external_id: str, path: str, *others: str) -> list[str]:
    """The first wallet's transfers hold exactly one with the case's externalId, the other wallets' none (a
    replay that answered the first transfer may still have created another one)."""
    problems = []
    for where, expected in ((path, 1), *((other, 0) for other in others)):
        found = listed_ids(ctx.principal(), where, external_id)
        if found is not None and len(found) > expected:
            problems.append("GET %s lists %d transfers with externalId %s (ids %s), expected %d: the same "
                            "externalId must not create a transfer twice" % (
                                where, len(found), external_id, ", ".join(map(str, found)), expected))
    return problems
