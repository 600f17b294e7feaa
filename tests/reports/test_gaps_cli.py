"""`helpdesk-gateway kb gaps`: the gap report of conversations that came in through the API
channel, read by the command from the same database and KB, as text and as JSON."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient

from gateway.config.settings import Settings
from tests.conftest import ROOT


async def _gaps(config: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "kb", "gaps", "--config", str(config), *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_kb_gaps_lists_the_clusters_as_text_and_json(
        client: TestClient, settings: Settings, api_headers: dict[str, str],
        tmp_path: Path) -> None:
    for customer, text in (("c1", "Do you sell gift cards?"),
                           ("c2", "can I buy a gift voucher for my dad"),
                           ("c3", "What are your opening hours?")):
        response = await client.post("/api/v1/messages", headers=api_headers, json={
            "customer": {"id": customer}, "text": text})
        assert response.status == 201
    config = tmp_path / "gateway.toml"
    config.write_text(f'[database]\nurl = "{settings.database_url}"\n'
                      f'[knowledge_base]\npath = "{settings.kb_path}"\n')

    code, out, _ = await _gaps(config, "--since", "30d")
    assert code == 0, out
    assert out.startswith("2 questions the bot could not answer since")
    # the article tried and its confidence (the figure moves with the demo KB)
    assert re.search(r"en-1: 2 question\(s\); tried payment-methods \(0\.\d\d\);"
                     r" no confident answer 2", out)
    assert "  - Do you sell gift cards?\n  - can I buy a gift voucher for my dad" in out

    code, out, _ = await _gaps(config, "--since", "12h", "--json")
    report = json.loads(out)
    assert code == 0 and report["gaps"] == 2 and not report["truncated"]
    [gift] = report["clusters"]
    assert gift["language"] == "en" and gift["count"] == 2 and gift["replies"] == []
    assert gift["article_id"] == "payment-methods" and len(gift["tickets"]) == 2

    code, _, err = await _gaps(config, "--since", "2 weeks")
    assert code == 2 and "--since" in err
