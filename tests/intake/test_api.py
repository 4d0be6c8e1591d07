"""POST /api/v1/reports through Django's test client: tokens, problem documents, batches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.forms.models import model_to_dict
from django.utils import timezone

from tests.intake.factories import REPORTS_URL, make_record, post_reports, token_for, two_parties
from victim_notify.agencies.models import ApiToken
from victim_notify.intake.models import Party, QuarantinedRecord, Report, ReportVersion
from victim_notify.messages.models import Notification
from victim_notify.rules.models import Decision

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- tokens ---------------------------------------------------------------------------------


def test_token_is_stored_only_as_a_hash(agency):
    token, plain = ApiToken.issue(agency, "RMS")
    secret = plain.split("_", 2)[2]
    stored = model_to_dict(ApiToken.objects.get(pk=token.pk))
    assert all(secret not in str(value) for value in stored.values())
    assert stored["secret_hash"] == ApiToken.digest(secret) != secret
    assert ApiToken.authenticate(plain) == token


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer vn_nope_nope", "Basic dXNlcjpwYXNz", "Bearer not-a-token"],
    ids=["none", "empty", "unknown", "basic", "malformed"],
)
def test_missing_or_bad_token_is_401_with_www_authenticate(agency, client, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.post(
        REPORTS_URL,
        data=json.dumps(make_record()),
        content_type="application/json",
        headers=headers,
    )
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Report.objects.exists()


def test_token_with_wrong_secret_is_401(agency, client, token):
    prefix, key_id, secret = token.split("_", 2)
    wrong = f"{prefix}_{key_id}_{'x' * len(secret)}"
    assert_problem(post_reports(client, wrong, make_record()), 401)
    assert not Report.objects.exists()


def test_revoked_token_is_401(agency, client, token):
    ApiToken.objects.filter(agency=agency).update(revoked_at=timezone.now())
    response = post_reports(client, token, make_record())
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response
    assert not Report.objects.exists()


def test_token_writes_only_to_its_own_agency(agency, other_agency, client):
    mine, theirs = token_for(agency), token_for(other_agency)
    record = make_record()
    assert post_reports(client, mine, record).status_code == 201
    assert post_reports(client, theirs, record).status_code == 201
    # The same report number is two reports, one in each agency, each with version 1.
    reports = Report.objects.filter(report_number=record["report_number"])
    assert {r.agency_id for r in reports} == {agency.pk, other_agency.pk}
    assert all(r.version == 1 for r in reports)
    other = reports.get(agency=other_agency)
    assert other.division.agency_id == other_agency.pk

    second = make_record()
    post_reports(client, mine, second)
    assert not Report.objects.filter(
        agency=other_agency, report_number=second["report_number"]
    ).exists()
    assert Notification.objects.filter(agency=other_agency).count() == 1


# --- OpenAPI ----------------------------------------------------------------------------------


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_openapi_schema_describes_reports(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] and schema["info"]["version"]
    components = schema["components"]["schemas"]
    assert {"ReportIn", "PartyIn", "OfficerIn", "RelationshipIn"} <= set(components)
    report_in = components["ReportIn"]
    assert {
        "report_number",
        "status",
        "reported_at",
        "officer",
        "division",
        "offenses",
        "parties",
    } <= set(report_in["required"])
    assert report_in["additionalProperties"] is False

    operation = schema["paths"]["/api/v1/reports"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    single, batch = body_schema["oneOf"]
    assert single == {"$ref": "#/components/schemas/ReportIn"}
    assert batch["type"] == "array" and batch["items"] == single
    assert batch["maxItems"] == settings.INTAKE_BATCH_LIMIT == 1000
    assert {"400", "413", "422"} <= set(operation["responses"])
    assert operation["security"]

    # Every reference resolves inside the document.
    for ref in _refs(schema):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in components, ref


def test_docs_page_is_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"/api/v1/openapi.json" in response.content


# --- whole-request errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"\xff\xfe\x00garbage",
        b'{"a": 1} trailing',
        b"[" * 100_000,
        b"[" + b"9" * 5000 + b"]",
    ],
    ids=["broken", "empty", "not-utf8", "trailing", "deeply-nested", "huge-integer"],
)
def test_body_that_is_not_json_is_400(agency, client, token, raw):
    body = assert_problem(post_reports(client, token, None, raw=raw), 400)
    assert body["title"] == "Body is not JSON"
    assert not QuarantinedRecord.objects.exists()


@pytest.mark.parametrize("value", ["a string", 42, None, True])
def test_body_that_is_neither_object_nor_array_is_400(agency, client, token, value):
    assert_problem(post_reports(client, token, value), 400)


def test_batch_over_the_limit_is_413_and_stores_nothing(agency, client, token):
    records = [make_record() for _ in range(settings.INTAKE_BATCH_LIMIT + 1)]
    body = assert_problem(post_reports(client, token, records), 413)
    assert "1001" in body["detail"]
    assert not Report.objects.exists()
    assert not QuarantinedRecord.objects.exists()


def test_batch_at_the_limit_is_accepted(agency, client, token):
    records = [make_record() for _ in range(settings.INTAKE_BATCH_LIMIT)]
    response = post_reports(client, token, records)
    assert response.status_code == 201
    assert response.json()["accepted"] == 1000
    assert Report.objects.count() == 1000


def test_body_over_the_upload_limit_is_413(agency, client, token):
    record = make_record(victim={"last_name": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    body = assert_problem(post_reports(client, token, record), 413)
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in body["detail"]
    assert not QuarantinedRecord.objects.exists()


def test_empty_batch_is_422(agency, client, token):
    assert_problem(post_reports(client, token, []), 422)


# --- single reports ---------------------------------------------------------------------------


def test_single_report_is_stored_decided_and_queued(agency, client, token):
    record = two_parties()
    response = post_reports(client, token, record)
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["received"] == body["accepted"] == 1
    assert body["notifications_queued"] == 2
    assert body["results"] == [
        {
            "index": 0,
            "report_number": record["report_number"],
            "outcome": "accepted",
            "warnings": [],
            "errors": [],
            "quarantine_id": None,
        }
    ]
    report = Report.objects.get(agency=agency, report_number=record["report_number"])
    assert report.source == "api" and report.version == 1
    assert ReportVersion.objects.get(report=report).number == 1
    assert Party.objects.filter(report=report).count() == 2
    assert Decision.objects.filter(report=report).count() == 4  # two parties, two channels
    channels = sorted(Notification.objects.filter(report=report).values_list("channel", flat=True))
    assert channels == ["email", "sms"]


def test_single_invalid_report_is_422_with_pointers_and_quarantined(agency, client, token):
    record = make_record(offenses=["23F", "ZZZ"], division="NOPE")
    record["parties"][0]["phone"] = 12  # wrong type
    text = json.dumps(record)
    response = post_reports(client, token, None, raw=text.encode())
    body = assert_problem(response, 422)
    assert body["report_number"] == record["report_number"]
    assert body["errors"] == [
        {"pointer": "/parties/0/phone", "detail": "Input should be a valid string"}
    ]

    held = QuarantinedRecord.objects.get(pk=body["quarantine_id"])
    assert held.agency_id == agency.pk
    assert held.source == "api"
    assert held.report_number == record["report_number"]
    assert json.loads(held.raw) == record
    assert held.errors == [
        {"pointer": "/parties/0/phone", "message": "Input should be a valid string"}
    ]
    assert not Report.objects.exists()

    # With the type fixed, the meaning of each field is checked: every bad field is named.
    record["parties"][0]["phone"] = "(520) 555-0134"
    body = assert_problem(post_reports(client, token, record), 422)
    assert sorted(e["pointer"] for e in body["errors"]) == ["/division", "/offenses/1"]
    assert all(e["detail"] for e in body["errors"])


def test_misspelt_field_is_named(agency, client, token):
    body = assert_problem(post_reports(client, token, make_record(do_not_notfy=True)), 422)
    assert body["errors"] == [
        {"pointer": "/do_not_notfy", "detail": "unknown field (check its spelling)"}
    ]


def test_warnings_are_reported_but_the_report_is_accepted(agency, client, token):
    record = make_record(victim={"phone": "555", "email": "ana@example.org"})
    response = post_reports(client, token, record)
    assert response.status_code == 201
    (result,) = response.json()["results"]
    assert result["outcome"] == "accepted"
    assert [w["pointer"] for w in result["warnings"]] == ["/parties/0/phone"]


# --- batches ----------------------------------------------------------------------------------


def test_batch_with_good_and_bad_records(agency, client, token):
    good_a, good_b = make_record(), two_parties()
    bad_division = make_record(division="Q")
    records: list[Any] = [
        good_a,
        bad_division,
        "not an object",
        good_b,
        make_record(reported_at="yesterday"),
    ]
    response = post_reports(client, token, records)
    assert response.status_code == 201
    body = response.json()
    assert body["received"] == 5
    assert body["accepted"] == 2
    assert body["quarantined"] == 3
    assert body["notifications_queued"] == 3
    outcomes = {r["index"]: r for r in body["results"]}
    assert [outcomes[i]["outcome"] for i in range(5)] == [
        "accepted",
        "quarantined",
        "quarantined",
        "accepted",
        "quarantined",
    ]
    assert outcomes[1]["errors"] == [{"pointer": "/division", "message": "unknown division 'Q'"}]
    assert outcomes[2]["errors"][0]["pointer"] == ""
    assert outcomes[2]["report_number"] is None
    assert outcomes[4]["errors"][0]["pointer"] == "/reported_at"

    for index in (1, 2, 4):
        held = QuarantinedRecord.objects.get(pk=outcomes[index]["quarantine_id"])
        assert held.record_index == index
        assert json.loads(held.raw) == records[index]
    for record in (good_a, good_b):
        report = Report.objects.get(report_number=record["report_number"])
        assert Decision.objects.filter(report=report, send=True).exists()
        assert Notification.objects.filter(report=report, status="pending").exists()
    assert Report.objects.count() == 2


def test_batch_of_only_bad_records_answers_200(agency, client, token):
    response = post_reports(client, token, [make_record(division="Q"), make_record(offenses=[])])
    assert response.status_code == 200
    body = response.json()
    assert body["quarantined"] == 2 and body["accepted"] == 0
    assert body["results"][1]["errors"][0]["pointer"] == "/offenses"


def test_same_report_number_twice_in_a_batch_is_an_amendment(agency, client, token):
    first = make_record()
    second = dict(first, offenses=["220"])
    body = post_reports(client, token, [first, second]).json()
    assert [r["outcome"] for r in body["results"]] == ["accepted", "amended"]
    report = Report.objects.get(report_number=first["report_number"])
    assert report.version == 2
    assert report.offense_codes == ["220"]
    assert list(report.versions.values_list("number", flat=True)) == [1, 2]
    # The first version's message was never sent: replaced, not added to.
    notes = Notification.objects.filter(report=report)
    assert sorted(notes.values_list("status", flat=True)) == ["cancelled", "pending"]


def test_same_report_twice_in_a_batch_unchanged(agency, client, token):
    record = make_record()
    body = post_reports(client, token, [record, record]).json()
    assert [r["outcome"] for r in body["results"]] == ["accepted", "unchanged"]
    assert ReportVersion.objects.count() == 1
    assert Notification.objects.count() == 1


def test_resending_the_same_report_is_unchanged(agency, client, token):
    record = make_record()
    assert post_reports(client, token, record).status_code == 201
    decisions = Decision.objects.count()
    response = post_reports(client, token, record)
    assert response.status_code == 200
    assert response.json()["results"][0]["outcome"] == "unchanged"
    assert ReportVersion.objects.count() == 1
    assert Decision.objects.count() == decisions
    assert Notification.objects.count() == 1


def test_names_come_back_exactly_in_the_response_encoding(agency, client, token):
    record = make_record(report_number="Ñ-1", victim={"first_name": "Zoë", "last_name": "Nguyễn"})
    response = post_reports(client, token, record)
    assert response.status_code == 201
    assert "Ñ-1".encode() in response.content
    assert Party.objects.get().last_name == "Nguyễn"
