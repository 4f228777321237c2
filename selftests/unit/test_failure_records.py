"""One failure as data: built where the check fails, saying what differed, carried as data, never read back from text."""

from __future__ import annotations

import json

import pytest
import requests

from dfns_contract.client import EnvironmentAnswer, Exchange
from dfns_contract.contract import schemas
from dfns_contract.contract.expectations import ContractViolation, assert_documented_error, assert_success
from dfns_contract.contract.failure_record import ANY_MESSAGE, ENVIRONMENT, FailureRecord
from dfns_contract.plugin.failures import environment_record

ENVELOPE_2026 = "error-2026.json"


def answer(status: int, body: object, content_type: str = "application/json") -> Exchange:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response.headers["Content-Type"] = content_type
    return Exchange("GET", "http://127.0.0.1:1/auth/apps", {"Authorization": "Bearer t"}, None, response)


def violation_of(exchange: Exchange, status: int, message: str | None, **kwargs: object) -> FailureRecord:
    with pytest.raises(ContractViolation) as caught:
        assert_documented_error(exchange, status, message, title="[case]", **kwargs)
    assert caught.value.record is not None and str(caught.value) == caught.value.record.text()
    return caught.value.record


def test_a_wrong_message_differs_in_the_message_alone_and_a_wrong_status_in_the_status_alone():
    """Control: the documented answer raises nothing."""
    assert_documented_error(answer(401, {"error": {"message": "Not Authorized."}}), 401, "Not Authorized.", title="ok")
    message = violation_of(answer(401, {"error": {"message": "Not Authorized"}}), 401, "Not Authorized.",
                           entry="no-jwt", drawn="'x'")
    status = violation_of(answer(403, {"error": {"message": "Not Authorized."}}), 401, "Not Authorized.")
    assert message.differed == ("message",) and status.differed == ("status",)
    assert (message.actual.status, message.actual.message, message.actual.content_type) == (
        401, "Not Authorized", "application/json")
    assert message.expected.status == 401 and message.expected.message == "Not Authorized."
    assert message.entry == "no-jwt" and message.drawn == "'x'" and message.curl.startswith("curl -sS -i -X GET")
    assert "differed: message" in message.line() and "differed: message" in message.text()


def test_a_body_that_is_not_the_envelope_differs_in_its_body_and_keeps_its_head():
    record = violation_of(answer(401, "<html>no</html>", "text/html"), 401, "Not Authorized.")
    assert record.differed == ("body",) and record.actual.head == "<html>no</html>" and record.actual.message is None


def test_an_undocumented_message_is_any_non_empty_one_never_none():
    """2026 documents no message: the record says so and shows the one seen (control: a documented one is quoted)."""
    record = violation_of(answer(403, {"error": {"id": "e", "status": 403, "message": "seen here", "details": {}}}),
                          401, None, envelope=ENVELOPE_2026)
    data = record.as_data()
    assert data["expected"]["message"] is None and data["expected"]["messageText"] == ANY_MESSAGE
    assert "None" not in record.text() and "None" not in record.line() and 'message "seen here"' in record.text()
    assert violation_of(answer(403, {"error": {"message": "m"}}), 401, "Not Authorized.").expected.message_text == \
        '"Not Authorized."'


def test_a_control_that_failed_expects_2xx():
    with pytest.raises(ContractViolation) as caught:
        assert_success(answer(404, {"error": {"message": "application not found"}}), title="[c] control")
    assert caught.value.record.expected.text == "HTTP 2xx" and caught.value.record.differed == ("status",)
    assert_success(answer(200, {}), title="control passes")  # control


def test_a_record_survives_the_trip_as_data_and_validates_against_the_report_schema():
    record = violation_of(answer(401, {"error": {"message": "Not Authorized"}}), 401, "Not Authorized.")
    data = json.loads(json.dumps(record.as_data()))
    assert FailureRecord.from_data(data) == record
    schema = json.loads(schemas.schema_path("report.json").read_text())
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator({**schema["$defs"]["failureRecord"], "$defs": schema["$defs"]})
    assert not list(validator.iter_errors(data))
    assert list(validator.iter_errors({**data, "differed": ["colour"]}))  # control: the schema does check


def test_a_gateway_s_answer_is_an_environment_record_naming_status_content_type_and_head():
    record = environment_record(EnvironmentAnswer(answer(502, "<html>Bad Gateway</html>", "text/html")))
    assert record.kind == ENVIRONMENT and record.title.startswith("environment error, the contract was not checked: ")
    assert (record.actual.status, record.actual.content_type, record.actual.head) == (
        502, "text/html", "<html>Bad Gateway</html>")
    assert "HTTP 502" in record.line() and "text/html" in record.line() and record.differed == ()
