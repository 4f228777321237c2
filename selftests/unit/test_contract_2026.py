"""Contract 2026 as data: its catalog, its error body, what it leaves out, and the binding across versions."""

import json

import pytest
import requests

from dfns_contract.client import Exchange, NotProvided
from dfns_contract.contract.binding import check_binding, load_contract, variants_published
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.contract.expectations import (
    auditor,
    documented_error_problems,
    envelope_problems,
    expected_error_text,
)
from dfns_contract.contract.recipes import Recipe


def answer(status: int, body: object, content_type: str = "application/json") -> Exchange:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response.headers["Content-Type"] = content_type
    return Exchange("GET", "http://127.0.0.1:1/wallets/wa-1", {}, None, response)


def error_body(status: int = 404, **changes: object) -> dict:
    inner = {"id": "er-1", "status": status, "message": "wallet not found", "details": {"walletId": "wa-1"}}
    inner.update(changes)
    return {"error": {k: v for k, v in inner.items() if v is not Ellipsis}}


ENVELOPE = "error-2026.json"


class TestTheBody:
    def test_a_faithful_body_has_no_problem(self):
        assert envelope_problems(answer(404, error_body()), ENVELOPE)[0] == []

    def test_extra_fields_and_no_details_are_allowed(self):
        body = error_body(details=..., code="WalletNotFound")
        body["requestId"] = "rq-1"
        assert envelope_problems(answer(404, body), ENVELOPE)[0] == []

    @pytest.mark.parametrize("changes, problem", [
        ({"id": ...}, "body error: 'id' is required"),
        ({"status": 400}, "body error.status is 400, expected the HTTP status 404"),
        ({"status": "404"}, "body error/status: must be of type integer"),
        ({"details": "wa-1"}, "body error/details: must be of type object"),
        ({"message": ""}, "body error/message: must not be shorter than 1 characters"),
    ])
    def test_each_broken_field_is_named(self, changes, problem):
        assert problem in envelope_problems(answer(404, error_body(**changes)), ENVELOPE)[0]

    def test_the_pages_body_is_not_the_2026_one_and_the_reverse_is_fine_for_the_pages(self):
        old = {"error": {"message": "wallet not found"}}
        assert envelope_problems(answer(404, old), ENVELOPE)[0] == [
            "body error: 'id' is required", "body error: 'status' is required"]
        assert envelope_problems(answer(404, error_body()))[0] == []  # extra fields, for the pages' schema

    def test_an_undocumented_message_is_any_non_empty_one(self):
        assert documented_error_problems(answer(404, error_body()), 404, None, envelope=ENVELOPE) == []
        assert documented_error_problems(answer(404, error_body()), 404, "user not found", envelope=ENVELOPE) == [
            'message is "wallet not found", expected "user not found"']

    def test_an_entry_body_fragment_is_checked(self):
        fragment = {"properties": {"error": {"required": ["details"], "properties": {
            "details": {"required": ["duplicate"]}}}}}
        problems = documented_error_problems(answer(409, error_body(409)), 409, None, envelope=ENVELOPE,
                                             body=fragment)
        assert problems == ["body error/details: 'duplicate' is required"]

    def test_the_expected_text_shows_the_version_body(self):
        assert expected_error_text(409, "Conflicting transfer with same externalId", ENVELOPE) == (
            'HTTP 409 {"error": {"id": <string>, "status": 409, "message": "Conflicting transfer with same '
            'externalId", "details": {…}}}')
        assert expected_error_text(401, None, ENVELOPE).startswith('HTTP 401 {"error": {"id": <string>, "status": 401, '
                                                                  '"message": <a non-empty string>')


class TestTheAudit:
    def test_a_recognised_status_is_the_environment_not_the_contract(self):
        audit = auditor(ENVELOPE, None, recognised={402: "the feature is not in this organisation's plan"})
        with pytest.raises(NotProvided, match="HTTP 402 .the feature is not in this organisation's plan"):
            audit(answer(402, error_body(402, message="upgrade your plan")))

    def test_a_recognised_status_is_audited_like_any_error(self):
        """"Audited wherever seen": a 402 in another body is a broken envelope, not the environment's doing."""
        audit = auditor(ENVELOPE, None, recognised={402: "the feature is not in this organisation's plan"})
        with pytest.raises(AssertionError, match="'error' is required"):
            audit(answer(402, {"message": "flat and wrong"}))

    def test_any_5xx_needs_the_body_but_no_message_where_none_is_documented(self):
        audit = auditor(ENVELOPE, None)
        audit(answer(503, error_body(503, message="upstream unavailable")))
        with pytest.raises(AssertionError, match="error.status is 500, expected the HTTP status 503"):
            audit(answer(503, error_body(500)))


class TestTheCatalog:
    @pytest.fixture(scope="class")
    @classmethod
    def catalog(cls) -> Catalog:
        return load_contract("2026")

    def test_it_names_its_body_headers_and_recognised_statuses(self, catalog):
        assert (catalog.version, catalog.envelope, catalog.request_headers) == (
            "2026", ENVELOPE, ("Authorization", "X-DFNS-USERACTION"))
        assert not catalog.has_header("x-dfns-nonce") and catalog.has_header("authorization")
        assert {entry.status: entry.answer for entry in catalog.recognised} == {
            202: "pending", 402: "environment", 410: "audited", 412: "audited", 422: "audited", 429: "environment",
            500: "audited"}
        assert catalog.internal_message is None

    def test_a_case_for_each_status_the_issue_names(self, catalog):
        statuses = {error.status for error in catalog.errors}
        assert statuses == {400, 401, 403, 404, 409}
        ids = [case.id for case in catalog.cases()]
        for expected in ("invalid-body-malformed-json", "invalid-body-missing-field", "no-jwt-missing",
                         "no-jwt-garbage", "no-jwt-tampered-signature", "no-jwt-expired",
                         "useraction-missing-or-invalid-missing", "forbidden-operation", "unknown-app-get",
                         "unknown-user", "unknown-wallet", "external-id-conflict-other-amount",
                         "external-id-conflict-other-destination", "external-id-conflict-other-wallet",
                         "other-org-resource-wallet", "other-org-resource-transfer", "other-org-resource-user",
                         "other-org-resource-app", "permission-assigned-twice",
                         "useraction-missing-or-invalid-missing-post", "useraction-missing-or-invalid-missing-delete"):
            assert expected in ids

    def test_documented_messages_are_exact_and_the_others_open(self, catalog):
        messages = {error.id: error.message for error in catalog.errors}
        assert messages["external-id-conflict"] == "Conflicting transfer with same externalId"
        assert messages["unknown-wallet"] == "wallet not found"
        assert messages["no-jwt"] is None and messages["invalid-body"] is None

    def test_the_transfer_cannot_be_undone_and_says_so(self, catalog):
        conflict = catalog.by_id("external-id-conflict")
        assert conflict.safety == "irreversible" and conflict.changes_state
        assert conflict.body["properties"]["error"]["required"] == ["details"]

    def test_every_entry_carries_the_version_body(self, catalog):
        assert {error.envelope for error in catalog.errors} == {ENVELOPE}


class TestBindingAcrossVersions:
    def test_a_version_may_replay_fewer_variants_than_the_recipe_knows(self):
        assert "other-org" in variants_published("no-jwt")
        assert "other-org" not in load_contract("2026").by_id("no-jwt").variants
        assert check_binding(load_contract("2026")) == []

    def test_a_variant_no_version_lists_is_still_a_mismatch(self):
        catalog = Catalog((DocumentedError("no-jwt", "s", "s", 401, None, "read-only", variants=("missing",)),), "c")
        recipes = {"no-jwt": Recipe("no-jwt", lambda ctx, variant: None, (), ("missing", "renamed-half-way"))}
        assert check_binding(catalog, recipes, frozenset()) == [
            "recipe 'no-jwt': variant 'renamed-half-way' is not in the catalog entry (it lists: missing)"]
