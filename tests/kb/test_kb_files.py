"""Loading KB files: good ones load, each broken one is reported with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.errors import KBError, KBFileError
from knowledge_base.files import FileCache, LoadResult, load_directory, load_file

GOOD = """\
id: opening-hours-extra
category: information
translations:
  en:
    title: Are you open on holidays?
    questions: [are you open on public holidays]
    answer: No.
"""


def test_fixture_kb_loads_every_article_with_its_source(kb: LoadResult) -> None:
    assert kb.errors == []
    assert set(kb.articles) == {"delivery-time", "return-policy", "warranty", "password-reset",
                                "opening-hours", "business-leasing"}
    article = kb.articles["delivery-time"]
    assert article.category == "information"
    assert article.queue == "logistics"
    assert article.source is not None and article.source.name == "delivery-time.yaml"
    assert article.translations["nl"].title == "Hoe lang duurt de levering?"
    assert kb.files[article.source] == ["delivery-time"]


def test_article_falls_back_to_english_then_first_translation(kb: LoadResult) -> None:
    leasing = kb.articles["business-leasing"]  # written in en and nl only
    assert leasing.translation("nl")[0] == "nl"
    lang, translation = leasing.translation("fr")
    assert lang == "en" and translation.title == "Bike leasing for companies"


def test_broken_yaml_names_file_and_line_and_others_still_load(kb_copy: Path) -> None:
    broken = kb_copy / "broken.yaml"
    broken.write_text("id: broken\ncategory: information\ntranslations:\n  en: [unclosed\n")
    result = load_directory(kb_copy)
    assert len(result.articles) == 6
    [error] = result.errors
    assert error.path == broken and error.line == 5
    assert str(error).startswith(f"{broken}:5: invalid YAML")
    assert result.files[broken] == []


@pytest.mark.parametrize(("text", "line", "words"), [
    (GOOD.replace("category: information", "category: information\nqueu: sales"), 3,
     ["unknown key 'queu'", "did you mean 'queue'"]),
    (GOOD.replace("category: information", "category: weather"), 2, ["category", "weather"]),
    (GOOD.replace("[are you open on public holidays]", "[]"), 6, ["questions", "at least 1"]),
    (GOOD.replace("id: opening-hours-extra", "id: Opening Hours"), 1, ["id", "pattern"]),
    (GOOD.replace("    answer: No.\n", "    answer: No.\n    anwser: Yes.\n"), 8,
     ["unknown key 'translations.en.anwser'", "did you mean 'answer'"]),
    ("id: x\ncategory: order\n", 1, ["missing required key 'translations'"]),
    (GOOD.replace("  en:", "  es:"), 4, ["translations.es"]),
    (GOOD + "category: sales\n", 8, ["key 'category' appears twice"]),
    (GOOD.replace("handoff", "x").replace("category: information",
                                            "category: information\nhandoff: 'yes'"), 3,
     ["handoff", "boolean"]),
    ("", 1, ["empty file"]),
])
def test_invalid_article_is_reported_at_the_offending_line(
        tmp_path: Path, text: str, line: int, words: list[str]) -> None:
    path = tmp_path / "article.yaml"
    path.write_text(text)
    with pytest.raises(KBFileError) as caught:
        load_file(path)
    error = caught.value
    assert isinstance(error, KBError)
    assert (error.path, error.line) == (path, line), str(error)
    for word in words:
        assert word in error.message
    assert str(error) == f"{path}:{line}: {error.message}"


def test_duplicate_id_across_files_names_both_files(kb_copy: Path) -> None:
    copy = kb_copy / "z-more" / "warranty-copy.yml"  # sorts after warranty.yaml
    copy.parent.mkdir()
    copy.write_text((kb_copy / "warranty.yaml").read_text())
    result = load_directory(kb_copy)
    [error] = result.errors
    assert error.path == copy and error.line == 1
    assert "duplicate article id 'warranty'" in error.message
    assert str(kb_copy / "warranty.yaml") in error.message
    assert result.articles["warranty"].source == kb_copy / "warranty.yaml"


def test_hidden_files_and_other_extensions_are_ignored(kb_copy: Path) -> None:
    (kb_copy / ".draft.yaml").write_text("not: [valid")
    (kb_copy / "notes.txt").write_text("not: [valid")
    result = load_directory(kb_copy)
    assert result.errors == [] and len(result.articles) == 6


def test_missing_directory_loads_nothing(tmp_path: Path) -> None:
    result = load_directory(tmp_path / "nope")
    assert result.articles == {} and result.errors == []


def test_a_cached_load_parses_only_changed_files_and_loads_the_same(kb_copy: Path) -> None:
    cache = FileCache()
    first = load_directory(kb_copy, cache)
    assert cache.parsed == len(first.files) > 3
    assert load_directory(kb_copy, cache) == first and cache.parsed == 0

    (kb_copy / "extra.yaml").write_text(GOOD, encoding="utf-8")
    (kb_copy / "warranty.yaml").write_text("id: warranty\ncategory: [broken\n", encoding="utf-8")
    (kb_copy / "opening-hours.yaml").unlink()
    loaded = load_directory(kb_copy, cache)
    assert cache.parsed == 2  # the new file and the edited one
    uncached = load_directory(kb_copy)
    assert (loaded.articles, loaded.files) == (uncached.articles, uncached.files)
    assert list(map(str, loaded.errors)) == list(map(str, uncached.errors))
    assert "opening-hours-extra" in loaded.articles and "opening-hours" not in loaded.articles
    assert [e.path.name for e in loaded.errors] == ["warranty.yaml"]

    (kb_copy / "warranty.yaml").write_text(GOOD.replace("opening-hours-extra", "warranty"),
                                           encoding="utf-8")
    assert load_directory(kb_copy, cache).errors == [] and cache.parsed == 1
