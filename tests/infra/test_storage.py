"""The minio wrapper against the real S3 gateway: SHA-256 on write, never overwrite."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from datetime import timedelta

import httpx
import pytest

from shared.infra.settings import S3Settings
from shared.infra.storage import ObjectExists, ObjectStore
from tests.conftest import S3_KEY, S3_SECRET


@pytest.fixture
async def store(s3_server):
    s = ObjectStore(S3Settings(endpoint=s3_server.endpoint, access_key=S3_KEY, secret_key=S3_SECRET,
                               bucket_prefix=f"t{uuid.uuid4().hex[:8]}"))
    await s.ensure_bucket(s.bucket("evidence"))
    await s.ensure_bucket(s.bucket("evidence"))  # idempotent
    return s


async def test_put_records_sha256_and_reads_back(store):
    data = b"%PDF-1.4 minimal" * 5000
    stored = await store.put_file(store.bucket("evidence"), "a/b.pdf", io.BytesIO(data), content_type="application/pdf")
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    stat = await asyncio.to_thread(store.client.stat_object, store.bucket("evidence"), "a/b.pdf")
    assert stat.metadata["x-amz-meta-sha256"] == stored.sha256
    assert await store.get_bytes(store.bucket("evidence"), "a/b.pdf") == data
    chunks = [c async for c in store.stream(store.bucket("evidence"), "a/b.pdf")]
    assert b"".join(chunks) == data


async def test_an_object_is_never_overwritten(store):
    bucket = store.bucket("evidence")
    await store.put_bytes(bucket, "k", b"first", content_type="text/plain")
    with pytest.raises(ObjectExists):
        await store.put_bytes(bucket, "k", b"second", content_type="text/plain")
    assert await store.get_bytes(bucket, "k") == b"first"


async def test_presigned_link_is_needed_and_removal_works(store):
    bucket = store.bucket("evidence")
    await store.put_bytes(bucket, "p.txt", b"hello", content_type="text/plain")

    url = store.presigned_get(bucket, "p.txt", timedelta(seconds=60))
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).content == b"hello"
        assert (await client.get(url.split("?")[0])).status_code == 403  # unsigned: refused
    await store.remove(bucket, "p.txt")
    assert not await store.exists(bucket, "p.txt")
