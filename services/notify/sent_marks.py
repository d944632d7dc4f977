"""Which mail the relay has accepted, kept in the object store rather than notify's database.

Why outside the database: a database restored from a backup forgets every mail sent after
the backup, and the events the outboxes republish then queue those mails again (same cause,
same Message-ID). The object store is not restored with the databases, so a marker per
Message-ID still says "sent" and the sender records the mail as sent without sending it.

A marker is an object `sent/<sha256 of the Message-ID>` (holding that Message-ID) in the `mail` bucket, written
once (objects are never overwritten; one that exists already means the same thing). The
check before a send is one HEAD.
"""

from __future__ import annotations

import hashlib

from shared.infra.storage import ObjectExists, ObjectStore

MAIL_BUCKET = "mail"


def marker_key(message_id: str) -> str:
    return f"sent/{hashlib.sha256(message_id.encode()).hexdigest()}"


class SentMarks:
    def __init__(self, storage: ObjectStore) -> None:
        self.storage = storage
        self.bucket = storage.bucket(MAIL_BUCKET)

    async def sent(self, message_id: str) -> bool:
        return await self.storage.exists(self.bucket, marker_key(message_id))

    async def record(self, message_id: str) -> None:
        try:
            await self.storage.put_bytes(self.bucket, marker_key(message_id), message_id.encode(),
                                          content_type="text/plain")
        except ObjectExists:
            pass  # recorded already: the same fact
