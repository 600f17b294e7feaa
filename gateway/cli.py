"""`helpdesk-gateway`: run the gateway, check its configuration, manage operators, edit the KB."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from aiohttp import web

from gateway.errors import ConfigError, GatewayError
from gateway.settings import Settings, load_settings

DEFAULT_CONFIG = Path("config/gateway.toml")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(Path(args.config))


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)  # a bad file is reported before anything else starts
    from gateway import logs
    from gateway.app import create_app

    logs.configure(settings.logging.level, settings.logging.format)
    host = args.host or settings.server.host
    port = args.port if args.port is not None else settings.server.port
    print(f"helpdesk-gateway on http://{host}:{port}/ (console: /console)", file=sys.stderr)
    web.run_app(create_app(settings), host=host, port=port, print=None,
                shutdown_timeout=settings.server.shutdown_grace)
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print(f"{args.config}: ok (database {settings.database_url.split('@')[-1]},"
          f" knowledge base {settings.kb_path})")
    return 0


async def _create_operator(args: argparse.Namespace, password: str) -> None:
    from gateway.auth import hash_password
    from gateway.store import store_for

    settings = _settings(args)
    store = store_for(settings.database_url)
    await store.open()
    try:
        existing = await store.operator_by_username(args.username)
        if existing is not None:
            await store.set_operator_password(existing.id, hash_password(password))
            print(f"password of {args.username} changed")
            return
        queues = args.queues.split(",") if args.queues else [q.name for q in settings.queues]
        languages = args.languages.split(",") if args.languages else settings.languages.supported
        await store.create_operator(args.username, args.name or args.username,
                                    hash_password(password), args.role,
                                    languages=languages, queues=queues)
        print(f"operator {args.username} ({args.role}) created")
    finally:
        await store.close()


def cmd_create_operator(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    if len(password) < 8:
        print("error: the password must have at least 8 characters", file=sys.stderr)
        return 2
    asyncio.run(_create_operator(args, password))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="helpdesk-gateway", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", default=str(DEFAULT_CONFIG), help="TOML configuration file")
        return p

    run = with_config(commands.add_parser("run", help="start the gateway"))
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.set_defaults(func=cmd_run)
    check = with_config(commands.add_parser("check-config", help="validate the configuration"))
    check.set_defaults(func=cmd_check_config)
    op = with_config(commands.add_parser("create-operator",
                                         help="create an operator or change their password"))
    op.add_argument("username")
    op.add_argument("--name", default="")
    op.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent")
    op.add_argument("--queues", default="", help="comma-separated (default: all queues)")
    op.add_argument("--languages", default="", help="comma-separated (default: all languages)")
    op.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    op.set_defaults(func=cmd_create_operator)
    commands.add_parser("kb", help="knowledge-base tools: lint, ask, test (see `kb --help`)",
                        add_help=False)
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kb"]:
        from knowledge_base.cli import main as kb_main

        return kb_main(argv[1:])
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"error: invalid configuration: {exc}", file=sys.stderr)
        return 2
    except GatewayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
