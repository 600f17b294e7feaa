"""`helpdesk-gateway run` on a port another program holds: one clear line, a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_a_busy_port_is_named_with_how_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
        env.update({"HELPDESK_DATABASE__URL": f"sqlite:{tmp_path / 'hd.db'}",
                    "HELPDESK_SERVER__HOST": "127.0.0.1", "HELPDESK_SERVER__PORT": str(port)})
        started = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "run", "--config",
             str(ROOT / "config" / "gateway.toml")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 1, started.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in started.stderr
    assert "HELPDESK_SERVER__PORT" in started.stderr
    assert "Traceback" not in started.stderr
    assert "helpdesk-gateway on http" not in started.stderr
