"""What the gateway keeps resident (issue 21; figures in docs/benchmarks.md#memory): heavy
modules only when asked for, the shipped word vectors as shipped, the detector configured
from `[languages]`, and the KB build's freed memory handed back."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.memory import release_freed_memory
from knowledge_base import language, wordvectors
from tests.conftest import ROOT
from tests.test_api_channel import post


def test_the_serving_process_never_imports_the_training_stack() -> None:
    # scikit-learn and scipy.optimize: about 75 MB resident; they train the matcher and
    # cluster the gap report in knowledge_base.trainer's child process
    code = """if True:
        import sys
        from pathlib import Path
        import gateway.app, gateway.cli, gateway.reports.gaps
        from knowledge_base.clusters import cluster
        from knowledge_base.files import load_directory
        from knowledge_base.index import Matcher
        matcher = Matcher.build(load_directory(Path("config/kb")).articles.values())
        best = matcher.match("where is my order?", "en").candidates[0].article_id
        groups = cluster(matcher.featurizer, ["gift card please", "a gift card", "pizza"], "en")
        heavy = sorted(m for m in sys.modules if m.split(".")[0] == "sklearn"
                       or m.startswith("scipy.optimize"))
        print(best, len(set(groups)), heavy[:3])
    """
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["order-status", "2", "[]"]


def test_the_word_vectors_stay_quantised_and_give_the_same_numbers() -> None:
    table = wordvectors._table()
    with np.load(wordvectors.DATA) as data:
        before = data["vectors"].astype(np.float32) * data["scale"][:, None]  # as they were
    ids = list(range(len(before)))
    assert np.array_equal(table.rows(ids), before)
    held = sum(v.nbytes for v in vars(table).values() if isinstance(v, np.ndarray))
    assert held < before.nbytes / 3


def test_freed_memory_goes_back_to_the_system_on_glibc() -> None:
    assert release_freed_memory() is (sys.platform == "linux")


@pytest.mark.parametrize("detection", ["accurate", "light"])
async def test_the_app_detects_among_its_supported_languages(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str], detection: str) -> None:
    settings = make_settings(languages={"default": "en", "supported": ["en", "nl"],
                                        "detection": detection})
    client = await aiohttp_client(create_app(settings))
    assert language._configured == (("en", "nl"), detection == "accurate")
    result = await post(client, api_headers, "Hoe lang duurt de levering?")
    (reply,) = result["replies"]
    assert (reply["kind"], reply["article_id"]) == ("answer", "delivery-time")
    assert "levering" in reply["text"].lower() or "werkdagen" in reply["text"].lower()


def test_detection_is_accurate_or_light() -> None:
    assert Settings().languages.detection == "accurate"
    with pytest.raises(ValueError, match="accurate"):
        Settings(languages={"detection": "fast"})


@pytest.mark.parametrize(("text", "lang", "article"), [
    ("how do I reset my password", "en", "password-reset"),
    ("L'essai est-il gratuit ?", "fr", "test-ride"),
])
async def test_light_detection_reads_short_questions_on_a_desk_of_another_language(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str], text: str, lang: str, article: str) -> None:
    # trigrams alone read them as German and English on a Dutch desk; the function words' prior
    # does not
    settings = make_settings(languages={"default": "nl", "supported": ["en", "fr", "nl", "de"],
                                        "detection": "light"})
    client = await aiohttp_client(create_app(settings))
    result = await post(client, api_headers, text)
    conversation = await client.get(f"/api/v1/conversations/{result['conversation_id']}",
                                    headers=api_headers)
    assert (await conversation.json())["language"] == lang
    (reply,) = result["replies"]
    assert (reply["kind"], reply["article_id"]) == ("answer", article)
