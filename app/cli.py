"""The `claimdesk` command: serve, migrate, keys, openapi, classifier."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
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


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def _keys_create(settings: Settings, name: str, role: Role, rate_limit: int | None = None) -> str:
    from app.auth import service

    async def work(session):
        _, key = await service.create_key(
            session, name=name, role=role, now=datetime.now(UTC), rate_limit=rate_limit
        )
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

    if args.no_worker:
        # Each uvicorn worker process reads its settings from the environment.
        os.environ["CLAIMDESK_WORKER_ENABLED"] = "false"
        get_settings.cache_clear()  # the in-process server reads them again
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


def _cmd_worker(_args: argparse.Namespace, settings: Settings) -> int:
    from app.core.db import Database
    from app.core.logging import configure_logging
    from app.main import deadline_context
    from app.worker import Worker

    configure_logging(settings.log_level)

    async def work() -> None:
        db = Database(settings)
        await db.start()
        worker = Worker(db, settings, ctx=deadline_context(settings))
        task = asyncio.create_task(worker.run())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        print(f"worker {worker.name} running; Ctrl-C stops it", flush=True)
        try:
            await task
        except asyncio.CancelledError:
            pass
        finally:
            await worker.release()
            await db.dispose()

    asyncio.run(work())
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
            key = _keys_create(settings, args.name, Role(args.role), args.rate_limit)
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
        print(f"{'name':30} {'role':14} {'prefix':12} {'created':26} {'limit/min':10} revoked")
        for row in rows:
            revoked = row.revoked_at.isoformat() if row.revoked_at else "-"
            limit = "default" if row.rate_limit is None else str(row.rate_limit or "unlimited")
            print(
                f"{row.name:30} {row.role:14} {row.prefix:12} "
                f"{row.created_at.isoformat():26} {limit:10} {revoked}"
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


def _cmd_classifier(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.classification import service
    from app.classification.training import evaluate, format_report, load_jsonl

    if args.classifier_command == "evaluate":
        try:
            examples = load_jsonl(Path(args.file))
        except (OSError, ValueError) as exc:
            print(exc, file=sys.stderr)
            return 1
        if args.builtin:
            model = service.builtin_model(settings)
        else:
            model = asyncio.run(_in_use(settings)).model
        print(f"model {model.version} (trained on {model.training_size} texts)")
        print(format_report(evaluate(model, examples), str(args.file)))
        return 0
    if args.classifier_command == "train":
        if args.builtin_only:
            model = service.builtin_model(settings)
            print(f"model {model.version} trained on {model.training_size} built-in texts")
            print(f"cached in {settings.classifier_cache_dir}")
            _print_figures(model.metrics)
            return 0
        outcome = asyncio.run(_retrain(settings))
        print(outcome.decision)
        print(
            f"candidate {outcome.candidate.version}: {outcome.candidate.training_size} texts "
            f"({outcome.overrides} overrides); in use: {outcome.active_version}"
        )
        _print_figures(outcome.candidate.metrics)
        return 0 if outcome.accepted else 3
    return 2


def _print_figures(metrics: dict) -> None:
    for section in ("evaluation", "cross_validation"):
        figures = metrics.get(section)
        if not figures:
            continue
        languages = ", ".join(
            f"{lang} {v['accuracy']:.3f}" for lang, v in figures["by_language"].items()
        )
        print(
            f"{section:17} sub-cause macro-F1 {figures['subcause_macro_f1']:.3f}, category "
            f"macro-F1 {figures['category_macro_f1']:.3f}, calibration error "
            f"{figures['calibration_error']:.3f}; accuracy by language: {languages}"
        )


async def _in_use(settings: Settings):
    from app.classification import service
    from app.core.db import Database

    db = Database(settings)
    try:
        return await service.load_runtime(db, settings)
    finally:
        await db.dispose()


async def _retrain(settings: Settings):
    from app.auth.service import Actor, Principal
    from app.classification import service
    from app.core.db import Database

    db = Database(settings)
    try:
        runtime = await service.load_runtime(db, settings)
        actor = Actor(Principal(key_id=0, name="cli", role=Role.admin), None)
        return await service.retrain(runtime, db, settings, actor, datetime.now(UTC))
    finally:
        await db.dispose()


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="claimdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations, then serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run webhook delivery and the deadline scanners in the server processes "
        "(run `claimdesk worker` instead)",
    )
    serve.set_defaults(handler=_cmd_serve)

    sub.add_parser(
        "worker", help="deliver webhooks and scan deadlines until stopped (SIGTERM/SIGINT)"
    ).set_defaults(handler=_cmd_worker)

    sub.add_parser("migrate", help="alembic upgrade head").set_defaults(handler=_cmd_migrate)

    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; prints it alone on the last line")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True)
    create.add_argument(
        "--rate-limit",
        type=_non_negative,
        default=None,
        metavar="N",
        help="requests per minute for this key (0: unlimited; default: "
        "CLAIMDESK_RATE_LIMIT_PER_MINUTE)",
    )
    keys_sub.add_parser("list", help="list keys (never their values)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    keys.set_defaults(handler=_cmd_keys)

    sub.add_parser("openapi", help="write the OpenAPI spec to stdout").set_defaults(
        handler=_cmd_openapi
    )

    classifier = sub.add_parser("classifier", help="evaluate or train the cause classifier")
    classifier_sub = classifier.add_subparsers(dest="classifier_command", required=True)
    evaluate = classifier_sub.add_parser(
        "evaluate",
        help="per-class precision/recall/F1, macro-F1, confusion matrix and accuracy per "
        "language of the model in use on a labelled JSON Lines file",
    )
    evaluate.add_argument("file", help="JSON Lines with text, lang and subcause per line")
    evaluate.add_argument(
        "--builtin", action="store_true", help="the model trained on built-in data only"
    )
    train = classifier_sub.add_parser(
        "train",
        help="retrain on built-in data plus overrides (as POST /v1/classifier/retrain); "
        "exit status 3 when the new model is refused",
    )
    train.add_argument(
        "--builtin-only",
        action="store_true",
        help="train on the built-in data and fill the model cache; no database needed",
    )
    classifier.set_defaults(handler=_cmd_classifier)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    args = build_parser().parse_args(argv)
    return args.handler(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())
