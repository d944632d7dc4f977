"""Odd input that used to crash a service (500 text/plain, a dropped connection) now gets a
clear problem+json answer with a code and the field."""

from __future__ import annotations

import pytest

from shared.infra.auth import Role
from shared.infra.settings import SERVICES
from shared.web.problems import PROBLEM
from tests.conftest import token
from tests.unit.test_problems import build, client

HUGE = str(2**63)


@pytest.mark.parametrize("name", SERVICES)
async def test_a_path_id_of_2_to_the_63_is_invalid_input_not_a_crash(name, tmp_path):
    async with client(build(name, tmp_path)) as c:
        r = await c.post(f"/ops/parked/{HUGE}/replay",
                         headers={"authorization": f"Bearer {token(Role.OPERATOR)}"})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "invalid_input" and r.json()["errors"][0]["field"] == "parked_id"


@pytest.mark.parametrize("body", [b"[1, 2", b"\xff\xfe", b"not json at all"])
async def test_a_body_that_is_not_json_names_the_body(body, tmp_path):
    async with client(build("intake", tmp_path)) as c:
        r = await c.post("/api/v1/auth/token", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_request"
    assert r.json()["errors"] == [{"field": "body", "reason": "not valid JSON"}]


async def test_a_body_of_the_wrong_shape_names_what_is_wrong(tmp_path):
    async with client(build("intake", tmp_path)) as c:
        r = await c.post("/api/v1/auth/token", json=[1, 2])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"


@pytest.mark.parametrize("if_match", ['"-5"', HUGE, f'"{HUGE}"', '"x"'])
async def test_if_match_is_held_to_the_same_rule_as_version(if_match, tmp_path):
    city = token(Role.CITY, city_id="c1")
    async with client(build("intake", tmp_path)) as c:
        r = await c.put("/api/v1/assessments/2026/responses/DG1", json={"response": "YES"},
                        headers={"authorization": f"Bearer {city}", "if-match": if_match})
        assert r.status_code == 422 and r.json()["code"] == "invalid_version", r.text
        assert r.json()["errors"][0]["field"] == "If-Match"
        r = await c.put("/api/v1/assessments/2026/responses/DG1", json={"response": "YES", "version": int(HUGE)},
                        headers={"authorization": f"Bearer {city}"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "version"
