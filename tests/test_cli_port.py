"""`helpdesk-gateway run` as a person starting it sees it: a busy port is one clear line and a
non-zero exit; the banner names the demo's login, and only the demo's."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

DEMO_CONFIG = ROOT / "config" / "gateway.toml"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update({"HELPDESK_DATABASE__URL": f"sqlite:{tmp_path / 'hd.db'}",
                "HELPDESK_SERVER__HOST": "127.0.0.1"}, **extra)
    return env


def _banner(env: dict[str, str]) -> str:
    """The line `run` prints once it listens (on a free port), then the process is stopped."""
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--config",
                                str(DEMO_CONFIG)], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                               text=True)
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if line.startswith("helpdesk-gateway on http"):
                return line
        raise AssertionError("no banner before the process ended")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


def test_a_busy_port_is_named_with_how_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        started = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "run", "--config", str(DEMO_CONFIG)],
            cwd=ROOT, env=_env(tmp_path, HELPDESK_SERVER__PORT=str(port)),
            capture_output=True, text=True, timeout=120)
    assert started.returncode == 1, started.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in started.stderr
    assert "HELPDESK_SERVER__PORT" in started.stderr
    assert "Traceback" not in started.stderr
    assert "helpdesk-gateway on http" not in started.stderr


def test_the_demo_banner_names_the_demo_login(tmp_path: Path) -> None:
    banner = _banner(_env(tmp_path, HELPDESK_SERVER__PORT="0"))
    assert "(console: /console, demo login admin / velora-demo-admin)" in banner, banner


def test_a_real_admin_password_is_never_printed(tmp_path: Path) -> None:
    banner = _banner(_env(tmp_path, HELPDESK_SERVER__PORT="0",
                          HELPDESK_CONSOLE__ADMIN__PASSWORD="Quiet-Harbour-77-own"))
    assert "(console: /console)" in banner, banner
    assert "Quiet-Harbour" not in banner and "demo" not in banner
