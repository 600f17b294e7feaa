"""The `[multilingual]` extra through the REST API: an admin writes articles in English only
and customers ask in French, Dutch and German (docs/knowledge-base.md#multilingual).

CI installs the extra (Makefile), so this runs with the real model on every build.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.app import create_app
from gateway.config.settings import Settings
from tests.conftest import ALWAYS_OPEN, DEMO_KB
from tests.test_api_channel import post


@pytest.fixture
def english_kb(tmp_path: Path) -> Path:
    """The demo KB as an admin who writes only English would have it."""
    folder = tmp_path / "kb"
    folder.mkdir()
    for path in DEMO_KB.glob("*.yaml"):
        article = yaml.safe_load(path.read_text(encoding="utf-8"))
        article["translations"] = {"en": article["translations"]["en"]}
        (folder / path.name).write_text(yaml.safe_dump(article, allow_unicode=True),
                                        encoding="utf-8")
    return folder


def _settings(make_settings: Callable[..., Settings], kb: Path, extra: bool) -> Settings:
    return make_settings(calendar=ALWAYS_OPEN,
                         knowledge_base={"path": str(kb), "multilingual": extra})


@pytest.mark.parametrize(("text", "language", "article"), [
    ("Combien de temps prend la livraison ?", "fr", "delivery-time"),
    ("Ik ben mijn wachtwoord vergeten", "nl", "password-reset"),
    ("Ich habe mein Passwort vergessen", "de", "password-reset"),
])
async def test_an_english_article_answers_a_question_in_another_language(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str], english_kb: Path, text: str, language: str,
        article: str) -> None:
    client = await aiohttp_client(create_app(_settings(make_settings, english_kb, True)))
    result = await post(client, api_headers, text, customer_id=f"{language}-1")
    (reply,) = result["replies"]
    assert (reply["kind"], reply["article_id"]) == ("answer", article)
    assert result["ticket_id"] is None


async def test_without_the_extra_the_english_article_is_not_found(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str], english_kb: Path) -> None:
    # what the extra buys: the light matcher shares no word with the English examples
    client = await aiohttp_client(create_app(_settings(make_settings, english_kb, False)))
    result = await post(client, api_headers, "Combien de temps prend la livraison ?")
    assert result["ticket_id"] is not None


@pytest.mark.parametrize(("text", "language"), [
    ("Où puis-je acheter un barbecue au gaz ?", "fr"),
    ("Waar kan ik een gasbarbecue kopen?", "nl"),
    ("Meine Pizza wurde zu spät geliefert", "de"),
])
async def test_an_out_of_scope_question_in_another_language_is_handed_off(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str], english_kb: Path, text: str, language: str) -> None:
    client = await aiohttp_client(create_app(_settings(make_settings, english_kb, True)))
    result = await post(client, api_headers, text, customer_id=f"{language}-1")
    assert result["ticket_id"] is not None
    assert all(reply["kind"] != "answer" for reply in result["replies"])
