"""The pure email modules stand alone: no network client, no gateway core."""

from __future__ import annotations

import subprocess
import sys

PURE = ["automated", "compose", "headers", "mailthread", "parse", "quotes"]


def test_pure_modules_import_without_the_gateway_or_network_clients() -> None:
    code = (
        "import sys\n"
        + "".join(f"import connectors.email.{name}\n" for name in PURE)
        + "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('gateway', 'aiohttp', 'aiosmtplib', 'aioimaplib')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
