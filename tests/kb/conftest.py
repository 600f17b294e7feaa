"""Fixtures: a small four-language KB written for these tests, loaded and indexed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.files import LoadResult, load_directory
from knowledge_base.index import Matcher

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"


@pytest.fixture(scope="session")
def kb() -> LoadResult:
    return load_directory(FIXTURE_KB)


@pytest.fixture(scope="session")
def matcher(kb: LoadResult) -> Matcher:
    return Matcher.build(kb.articles.values())


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture KB, to break files in."""
    target = tmp_path / "kb"
    target.mkdir()
    for file in FIXTURE_KB.glob("*.yaml"):
        (target / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    return target
