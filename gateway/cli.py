"""`helpdesk-gateway`: run the gateway, check its configuration, manage operators, edit the KB,
answer a customer's access or erasure request."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import gc
import getpass
import json
import socket
import sys
from pathlib import Path

from aiohttp import web

from gateway import passwords
from gateway.config import deployment
from gateway.config.settings import Settings, load_settings
from gateway.errors import ConfigError, GatewayError

DEFAULT_CONFIG = Path("config/gateway.toml")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(Path(args.config))


def _unsafe(settings: Settings, host: str) -> bool:
    """Say why serving `settings` on `host` would expose demo secrets; True if it would."""
    found = deployment.problems(settings, host)
    for problem in found:
        print(f"error: refusing to listen on {host!r} (not loopback): {problem}",
              file=sys.stderr)
    return bool(found)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)  # a bad file is reported before anything else starts
    from gateway import logs
    from gateway.app import create_app

    host = args.host or settings.server.host
    port = args.port if args.port is not None else settings.server.port
    if _unsafe(settings, host):
        return 2
    sock = _listen(host, port)
    if sock is None:
        return 1
    logs.configure(settings.logging.level, settings.logging.format)
    port = sock.getsockname()[1]
    demo = deployment.demo_login(settings)
    login = f", demo login {demo}" if demo else ""
    print(f"helpdesk-gateway on http://{host}:{port}/ (console: /console{login})",
          file=sys.stderr)
    app = create_app(settings)
    app.on_startup.append(_freeze_startup_objects)  # after the gateway has started
    web.run_app(app, sock=sock, print=None, shutdown_timeout=settings.server.shutdown_grace)
    return 0


async def _freeze_startup_objects(app: web.Application) -> None:
    """What start-up loaded (the KB, its matcher, the settings) lives as long as the process:
    out of the cycle collector's sight, a full collection no longer walks it. It took 160 to
    280 ms, with the event loop stopped, whenever a mail's allocations triggered one."""
    gc.collect()
    gc.freeze()


def _listen(host: str, port: int) -> socket.socket | None:
    """The listening socket, bound before anything starts or is announced: a busy port is
    one clear line and a non-zero exit, not a banner followed by a traceback."""
    try:
        return socket.create_server((host, port), family=_family(host))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"error: port {port} on {host} is already in use (another helpdesk-gateway?); "
                  f"choose another with --port N or HELPDESK_SERVER__PORT=N", file=sys.stderr)
        else:
            print(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}",
                  file=sys.stderr)
        return None


def _family(host: str) -> socket.AddressFamily:
    """IPv6 for an IPv6 literal or name, else IPv4 (what `host` resolves to first)."""
    try:
        return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    except OSError:
        return socket.AF_INET


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if _unsafe(settings, settings.server.host):
        return 2
    print(f"{args.config}: ok (database {settings.database_url.split('@')[-1]},"
          f" knowledge base {settings.kb_path})")
    return 0


async def _create_operator(args: argparse.Namespace, password: str) -> int:
    from gateway.access.auth import hash_password
    from gateway.store import store_for

    settings = _settings(args)
    queues = args.queues.split(",") if args.queues else [q.name for q in settings.queues]
    languages = args.languages.split(",") if args.languages else settings.languages.supported
    unknown_queues = sorted(set(queues) - {q.name for q in settings.queues})
    unknown_languages = sorted(set(languages) - set(settings.languages.supported))
    if unknown_queues or unknown_languages:
        print(f"error: no queue named {', '.join(unknown_queues)}" if unknown_queues else
              f"error: language {', '.join(unknown_languages)} is not supported (supported: "
              f"{', '.join(settings.languages.supported)})", file=sys.stderr)
        return 2
    store = store_for(settings.database_url)
    await store.open()
    try:
        if await store.operator_by_username(args.username) is not None:
            print(f"error: operator {args.username} exists already; change their password with "
                  f"`helpdesk-gateway set-password {args.username}`", file=sys.stderr)
            return 1
        await store.create_operator(args.username, args.name or args.username,
                                    hash_password(password), args.role,
                                    languages=languages, queues=queues)
        print(f"operator {args.username} ({args.role}) created")
        return 0
    finally:
        await store.close()


def _new_password(args: argparse.Namespace) -> str | None:
    """The password from stdin or the terminal, or None after saying why the policy refuses it."""
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    refused = passwords.problem(password, args.username)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return None
    return password


def cmd_create_operator(args: argparse.Namespace) -> int:
    password = _new_password(args)
    return 2 if password is None else asyncio.run(_create_operator(args, password))


async def _set_password(args: argparse.Namespace, password: str) -> int:
    from gateway.access.auth import hash_password
    from gateway.store import store_for

    store = store_for(_settings(args).database_url)
    await store.open()
    try:
        operator = await store.operator_by_username(args.username)
        if operator is None:
            print(f"error: no operator named {args.username}", file=sys.stderr)
            return 1
        await store.set_operator_password(operator.id, hash_password(password))
        await store.delete_sessions_of(operator.id)  # whoever knew the old one is logged out
        print(f"password of {args.username} changed; their console sessions were ended")
        return 0
    finally:
        await store.close()


def cmd_set_password(args: argparse.Namespace) -> int:
    password = _new_password(args)
    return 2 if password is None else asyncio.run(_set_password(args, password))


async def _customer(args: argparse.Namespace) -> tuple[int, str]:
    """Export or erase one customer's data (GDPR access and erasure requests): the exit
    code and what to print (or write to --output)."""
    from gateway import logs
    from gateway.app import channel_states
    from gateway.privacy import personal_data
    from gateway.store import store_for

    settings = _settings(args)
    logs.configure(settings.logging.level, settings.logging.format)  # to stderr
    store = store_for(settings.database_url)
    await store.open()
    try:
        customer_id = await personal_data.find_customer(store, args.reference)
        if args.action == "export":
            return 0, json.dumps(await personal_data.export(store, customer_id, channel_states()),
                                 ensure_ascii=False, indent=2, default=str)
        if not args.yes:
            print(f"customer {customer_id} found. Erasure cannot be undone: export first if "
                  "the person also asked for their data, then run again with --yes.",
                  file=sys.stderr)
            return 1, ""
        erased = await personal_data.erase(store, customer_id, channel_states(),
                                         actor=f"cli:{args.actor}")
        return 0, json.dumps(dataclasses.asdict(erased))
    finally:
        await store.close()


def cmd_customer(args: argparse.Namespace) -> int:
    code, text = asyncio.run(_customer(args))
    if args.output and code == 0 and args.action == "export":
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"exported to {args.output}", file=sys.stderr)
    elif text:
        print(text)
    return code


async def _outbox(args: argparse.Namespace) -> tuple[int, str]:
    """List the replies that did not go out, or put them back in line (`retry`)."""
    from gateway import logs
    from gateway.delivery.outbox import redrive
    from gateway.store import store_for
    from gateway.store.outbox_queries import STOPPED

    settings = _settings(args)
    logs.configure(settings.logging.level, settings.logging.format)  # to stderr
    store = store_for(settings.database_url)
    await store.open()
    try:
        if args.action == "list":
            entries = [e for status in STOPPED for e in await store.outbox_entries(status)]
            lines = [json.dumps({"id": e.id, "status": e.status, "channel": e.channel,
                                 "conversation_id": e.conversation_id, "attempts": e.attempts,
                                 "created_at": e.created_at.isoformat(),
                                 "last_error": e.last_error}) for e in entries]
            return 0, "\n".join(lines)
        ids = [int(i) for i in args.ids]
        if args.all_failed:
            ids += [e.id for e in await store.outbox_entries("failed")]
        if not ids:
            return 2, "error: give outbox ids (see `outbox list`) or --all-failed"
        redriven = await redrive(store, sorted(set(ids)), actor=f"cli:{args.actor}")
        skipped = sorted(set(ids) - {e.id for e in redriven})
        text = f"{len(redriven)} queued again"
        return 0, text + (f"; not failed or uncertain: {skipped}" if skipped else "")
    finally:
        await store.close()


def cmd_outbox(args: argparse.Namespace) -> int:
    code, text = asyncio.run(_outbox(args))
    if text:
        print(text, file=sys.stderr if code else sys.stdout)
    return code


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
    op = with_config(commands.add_parser("create-operator", help="create an operator"))
    op.add_argument("username")
    op.add_argument("--name", default="")
    op.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent")
    op.add_argument("--queues", default="", help="comma-separated (default: all queues)")
    op.add_argument("--languages", default="", help="comma-separated (default: all languages)")
    op.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    op.set_defaults(func=cmd_create_operator)
    reset = with_config(commands.add_parser(
        "set-password", help="change an operator's password (the admin's too) and end their "
                             "console sessions"))
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true",
                       help="read the password from stdin")
    reset.set_defaults(func=cmd_set_password)
    customer = with_config(commands.add_parser(
        "customer", help="a customer's data: export it (access request) or erase it"))
    customer.add_argument("action", choices=["export", "erase"])
    customer.add_argument("reference",
                          help="customer number, e-mail address or channel:identity")
    customer.add_argument("--output", help="export: write the JSON here (default: stdout)")
    customer.add_argument("--yes", action="store_true", help="erase: confirm")
    customer.add_argument("--actor", default=getpass.getuser(),
                          help="erase: who asked, for the audit trail (default: you)")
    customer.set_defaults(func=cmd_customer)
    outbox = with_config(commands.add_parser(
        "outbox", help="replies that did not go out: list them, or retry (re-drive) them"))
    outbox.add_argument("action", choices=["list", "retry"])
    outbox.add_argument("ids", nargs="*", help="retry: outbox ids (from `outbox list`)")
    outbox.add_argument("--all-failed", action="store_true",
                        help="retry: every failed reply (uncertain ones only by id: they may"
                             " have arrived)")
    outbox.add_argument("--actor", default=getpass.getuser(),
                        help="retry: who, for the audit trail (default: you)")
    outbox.set_defaults(func=cmd_outbox)
    commands.add_parser("kb", help="knowledge-base tools: lint, ask, test, gaps (see `kb --help`)",
                        add_help=False)
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["kb", "gaps"]:  # needs the store: the gateway's, not the KB library's
        from gateway.reports.gaps_cli import main as gaps_main

        return gaps_main(argv[2:])
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
