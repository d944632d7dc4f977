"""Every throttle counts across replicas once `WWC_THROTTLE_STORAGE` names a shared store:
two intake processes and two reporting processes, built as their `main` builds them, on the
real Redis at 127.0.0.1:6379. A client that fails sign-in on one replica waits on the other
too, registrations and verification look-ups are counted once for both; with the default
(memory) each process counts alone."""

from __future__ import annotations

import uuid

import pytest

from services.intake.main import build as build_intake
from services.reporting.main import build as build_reporting
from shared.errors import RateLimited, Unavailable
from shared.infra.throttle import Throttle, parse

REDIS = "async+redis://127.0.0.1:6379"


@pytest.fixture
async def redis(monkeypatch):
    if not await Throttle(REDIS).storage.check():
        pytest.skip("Redis at 127.0.0.1:6379 is not reachable: the shared store cannot be tested")
    monkeypatch.setenv("WWC_THROTTLE_STORAGE", REDIS)


def replicas(build, n: int = 2):
    return [build()[1].state for _ in range(n)]


async def test_sign_in_failures_on_one_replica_slow_the_other(redis, monkeypatch):
    monkeypatch.setenv("WWC_INTAKE_SIGN_IN_FREE_FAILURES", "1")
    one, two = (state.sign_in_throttle for state in replicas(build_intake))
    email, client = f"{uuid.uuid4().hex}@example.org", f"client-{uuid.uuid4().hex}"
    await one.failed(email, client)  # free
    await two.check(email, client)
    await two.failed(email, client)  # the second failure, counted with the first: a delay
    with pytest.raises(RateLimited) as refused:
        await one.check(email, client)
    assert refused.value.params["retry_after"] >= 1
    await one.succeeded(email, client)  # a success on either clears it for both
    await two.check(email, client)


async def test_registrations_are_counted_once_for_both_replicas(redis, monkeypatch):
    monkeypatch.setenv("WWC_INTAKE_REGISTRATION_LIMITS_PER_ADDRESS", "3/hour")
    one, two = (state.registration_throttle for state in replicas(build_intake))
    email = f"{uuid.uuid4().hex}@example.org"
    for throttle in (one, two, one):
        await throttle.hit(email, f"client-{uuid.uuid4().hex}")
    with pytest.raises(RateLimited):
        await two.hit(email, f"client-{uuid.uuid4().hex}")


async def test_verification_look_ups_are_counted_once_for_both_replicas(redis, monkeypatch):
    monkeypatch.setenv("WWC_REPORTING_VERIFY_LIMITS_PER_CLIENT", "4/minute")
    one, two = (state.verify_throttle for state in replicas(build_reporting))
    client = f"client-{uuid.uuid4().hex}"
    for throttle in (one, two, two, one):
        await throttle.hit(client)
    for throttle in (one, two):
        with pytest.raises(RateLimited):
            await throttle.hit(client)


async def test_in_memory_each_process_counts_alone(monkeypatch):
    """The default, right for one process per service (`make run`, compose)."""
    monkeypatch.delenv("WWC_THROTTLE_STORAGE", raising=False)
    monkeypatch.setenv("WWC_REPORTING_VERIFY_LIMITS_PER_CLIENT", "2/minute")
    one, two = (state.verify_throttle for state in replicas(build_reporting))
    for throttle in (one, one, two, two):
        await throttle.hit("client")
    with pytest.raises(RateLimited):
        await one.hit("client")


async def test_an_unreachable_store_is_a_503_not_a_500():
    down = Throttle("async+redis://127.0.0.1:1")  # nothing listens there
    with pytest.raises(Unavailable) as refused:
        await down.hit(parse("3/minute"), "sign-in:client", "client")
    assert refused.value.params["retry_after"] > 0
