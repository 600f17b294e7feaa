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


def test_the_gateway_leaves_sklearn_cluster_to_the_gap_report() -> None:
    # about 7 MB resident: imported by the gap report's clustering, not at start
    code = ("import sys, gateway.app, gateway.cli, gateway.reports.gaps; "
            "print('sklearn.cluster' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


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
