"""Object storage over the S3 API with the `minio` SDK.

The SDK is synchronous, so every call runs in a worker thread off the event loop. The
region is passed explicitly (otherwise the SDK asks the server first). Every write
records the object's SHA-256 as metadata, and keys are never overwritten.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from minio import Minio
from minio.error import S3Error

from shared.infra.settings import S3Settings

CHUNK = 1024 * 1024
PART_SIZE = 5 * CHUNK


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    size: int
    sha256: str
    content_type: str


class ObjectExists(Exception):
    pass


def sha256_of(fileobj: BinaryIO) -> tuple[str, int]:
    """Hash a seekable file in chunks (never whole in memory) and rewind it."""
    h = hashlib.sha256()
    size = 0
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return h.hexdigest(), size


class ObjectStore:
    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            region=settings.region,
        )

    def bucket(self, name: str) -> str:
        return f"{self.settings.bucket_prefix}-{name}"

    async def ensure_bucket(self, bucket: str) -> None:
        def _ensure() -> None:
            if not self.client.bucket_exists(bucket):
                try:
                    self.client.make_bucket(bucket, location=self.settings.region)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

        await asyncio.to_thread(_ensure)

    async def ping(self) -> None:
        await asyncio.to_thread(self.client.list_buckets)

    async def exists(self, bucket: str, key: str) -> bool:
        def _stat() -> bool:
            try:
                self.client.stat_object(bucket, key)
                return True
            except S3Error as exc:
                if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                    return False
                raise

        return await asyncio.to_thread(_stat)

    async def put_file(
        self, bucket: str, key: str, fileobj: BinaryIO, *, content_type: str, metadata: dict | None = None
    ) -> StoredObject:
        """Upload a seekable file, streamed in parts; refuses to overwrite an existing key."""
        if await self.exists(bucket, key):
            raise ObjectExists(f"{bucket}/{key} already exists; objects are never overwritten")
        digest, size = await asyncio.to_thread(sha256_of, fileobj)
        meta = {"sha256": digest, **(metadata or {})}

        def _put() -> None:
            # Multipart in 5 MiB parts (the S3 minimum), two in flight: memory stays near
            # 10 MiB whatever the file's size (the SDK buffers each part it sends).
            self.client.put_object(
                bucket, key, fileobj, length=size, content_type=content_type, metadata=meta,
                part_size=PART_SIZE, num_parallel_uploads=2,
            )

        await asyncio.to_thread(_put)
        return StoredObject(bucket, key, size, digest, content_type)

    async def put_bytes(self, bucket: str, key: str, data: bytes, *, content_type: str) -> StoredObject:
        import io

        return await self.put_file(bucket, key, io.BytesIO(data), content_type=content_type)

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        def _get() -> bytes:
            resp = self.client.get_object(bucket, key)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()

        return await asyncio.to_thread(_get)

    async def stream(self, bucket: str, key: str):
        """Yield an object's bytes in chunks (for streaming downloads)."""
        resp = await asyncio.to_thread(self.client.get_object, bucket, key)
        try:
            while chunk := await asyncio.to_thread(resp.read, CHUNK):
                yield chunk
        finally:
            resp.close()
            resp.release_conn()

    async def remove(self, bucket: str, key: str) -> None:
        await asyncio.to_thread(self.client.remove_object, bucket, key)

    async def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        def _list() -> list[str]:
            return [o.object_name for o in self.client.list_objects(bucket, prefix=prefix, recursive=True)]

        return await asyncio.to_thread(_list)

    def presigned_get(self, bucket: str, key: str, expires: timedelta = timedelta(minutes=5)) -> str:
        return self.client.presigned_get_object(bucket, key, expires=expires)
