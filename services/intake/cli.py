"""`wwc user create`: staff accounts (auditors, operators) are created from the CLI only."""

from __future__ import annotations

import asyncio
import getpass
import os

from shared.infra import migrations
from shared.infra.auth import Role
from shared.infra.db import Database
from shared.errors import DomainError
from shared.infra.settings import ServiceSettings
from services.intake import accounts


async def create_user(email: str, name: str, password: str, role: Role, city_id: str | None = None) -> str:
    s = ServiceSettings.for_service("intake")
    db = Database(s.db_url, s.db_schema)
    try:
        await migrations.upgrade(db, "intake")
        async with db.transaction() as session:
            user = await accounts.create_staff_user(session, email=email, name=name, password=password,
                                                    role=role, city_id=city_id)
            return user.id
    finally:
        await db.dispose()


def _create(args) -> int:
    password = os.environ.get("WWC_NEW_USER_PASSWORD") or getpass.getpass("Password: ")
    if len(password) < 10:
        print("error: the password needs at least 10 characters")
        return 2
    try:
        user_id = asyncio.run(create_user(args.email, args.name, password, Role(args.role), args.city))
    except DomainError as exc:
        print(f"error: {exc.detail}")
        return 2
    print(f"created {args.role} {args.email} ({user_id})")
    return 0


def register(subparsers) -> None:
    user = subparsers.add_parser("user", help="staff accounts").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="create an auditor or operator (password from WWC_NEW_USER_PASSWORD or prompt)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--role", choices=[r.value for r in Role], required=True)
    create.add_argument("--city", help="city id, for an additional city staff account")
    create.set_defaults(func=_create)
