"""The `claimdesk` command: serve, migrate, keys, openapi."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from app.auth.roles import Role
from app.core.config import Settings, get_settings


def migrate(settings: Settings) -> None:
    """Apply every migration (alembic upgrade head) to the configured database."""
    from alembic import command

    from app.ops.service import alembic_config

    command.upgrade(alembic_config(settings.database_url), "head")


async def _with_session(settings: Settings, work):
    from app.core.db import Database

    db = Database(settings)
    try:
        async with db.session() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await db.dispose()


def _keys_create(settings: Settings, name: str, role: Role) -> str:
    from app.auth import service

    async def work(session):
        _, key = await service.create_key(session, name=name, role=role, now=datetime.now(UTC))
        return key

    return asyncio.run(_with_session(settings, work))


def ensure_first_admin_key(settings: Settings) -> str | None:
    """Create an `admin` key if the database has no active admin key; return it, else None."""
    from app.auth import service

    async def work(session):
        if await service.count_active_admin_keys(session):
            return None
        _, key = await service.create_key(
            session,
            name=f"admin-{datetime.now(UTC):%Y%m%d%H%M%S}",
            role=Role.admin,
            now=datetime.now(UTC),
        )
        return key

    return asyncio.run(_with_session(settings, work))


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    migrate(settings)
    key = ensure_first_admin_key(settings)
    if key:
        print("No admin key existed, so one was created. It is shown only this once:", flush=True)
        print(key, flush=True)
    uvicorn.run(
        "app.main:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
    return 0


def _cmd_migrate(_args: argparse.Namespace, settings: Settings) -> int:
    migrate(settings)
    print("database at migration head")
    return 0


def _cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from app.auth import service

    if args.keys_command == "create":
        from app.core.errors import Conflict

        try:
            key = _keys_create(settings, args.name, Role(args.role))
        except Conflict as exc:
            print(exc.detail, file=sys.stderr)
            return 1
        print(f"created key {args.name!r} with role {args.role}; store it now, it is not kept:")
        print(key)
        return 0
    if args.keys_command == "list":

        async def work(session):
            return await service.list_keys(session)

        rows = asyncio.run(_with_session(settings, work))
        print(f"{'name':30} {'role':14} {'prefix':12} {'created':26} revoked")
        for row in rows:
            revoked = row.revoked_at.isoformat() if row.revoked_at else "-"
            print(
                f"{row.name:30} {row.role:14} {row.prefix:12} "
                f"{row.created_at.isoformat():26} {revoked}"
            )
        return 0
    if args.keys_command == "revoke":

        async def work(session):
            await service.revoke_key(session, name=args.name, now=datetime.now(UTC))

        from app.core.errors import NotFound

        try:
            asyncio.run(_with_session(settings, work))
        except NotFound as exc:
            print(exc.detail, file=sys.stderr)
            return 1
        print(f"revoked key {args.name!r}")
        return 0
    return 2


def _cmd_openapi(_args: argparse.Namespace, settings: Settings) -> int:
    from app.main import create_app
    from app.openapi import export

    sys.stdout.write(export(create_app(settings)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="claimdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations, then serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=_cmd_serve)

    sub.add_parser("migrate", help="alembic upgrade head").set_defaults(handler=_cmd_migrate)

    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; prints it alone on the last line")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True)
    keys_sub.add_parser("list", help="list keys (never their values)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    keys.set_defaults(handler=_cmd_keys)

    sub.add_parser("openapi", help="write the OpenAPI spec to stdout").set_defaults(
        handler=_cmd_openapi
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    args = build_parser().parse_args(argv)
    return args.handler(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())
