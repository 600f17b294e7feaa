"""Writing to the KB from the gap report (knowledge_base/authoring.py): a draft is a valid
article in drafts/, never overwrites and never leaves the KB directory; added examples keep
the file's comments and layout and must leave it a valid article."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.authoring import add_examples, clean_questions, write_draft
from knowledge_base.errors import AuthoringError
from knowledge_base.files import load_directory, load_file

ARTICLE = """\
# kept: a comment
id: gift-cards
category: sales
translations:
  en:
    title: Gift cards
    questions:
      - Do you sell gift cards?   # and this one
    answer: |
      Yes.
  fr:
    title: Cartes cadeaux
    questions: [Vendez-vous des cartes cadeaux]
"""


def _draft(article_id: str = "gift-cards") -> dict[str, object]:
    return {"id": article_id, "category": "sales", "translations": {
        "en": {"title": "Gift cards", "questions": ["Do you sell gift cards?"],
               "answer": "Yes: 25 to 500 euro."}}}


def test_a_draft_is_a_new_valid_article_file_in_drafts(tmp_path: Path) -> None:
    path = write_draft(tmp_path, _draft())
    assert path == (tmp_path / "drafts" / "gift-cards.yaml").resolve()
    [article] = load_file(path)
    assert article.translations["en"].answer == "Yes: 25 to 500 euro."
    with pytest.raises(AuthoringError, match="exists already"):
        write_draft(tmp_path, _draft())
    assert load_file(path)[0].translations["en"].answer == "Yes: 25 to 500 euro."


@pytest.mark.parametrize("article_id", ["../escape", "/etc/passwd", "a/b", "Gift", "", "a..b"])
def test_a_draft_id_cannot_name_a_path(tmp_path: Path, article_id: str) -> None:
    with pytest.raises(AuthoringError, match="id"):
        write_draft(tmp_path, _draft(article_id))
    assert not any(tmp_path.parent.glob("escape*"))


def test_examples_are_inserted_keeping_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "gift-cards.yaml"
    path.write_text(ARTICLE)
    added = add_examples(tmp_path, path, "en", ["  can I buy a gift   voucher ", "DO YOU SELL"
                                                " GIFT CARDS?", 'a "quoted": question'])
    assert added == 2
    text = path.read_text()
    assert text == ARTICLE.replace(
        "      - Do you sell gift cards?   # and this one\n",
        "      - Do you sell gift cards?   # and this one\n"
        '      - "can I buy a gift voucher"\n      - "a \\"quoted\\": question"\n')
    assert load_directory(tmp_path).articles["gift-cards"].translations["en"].questions[-1] \
        == 'a "quoted": question'
    assert add_examples(tmp_path, path, "en", ["can I buy a gift voucher"]) == 0
    with pytest.raises(AuthoringError, match="block list"):
        add_examples(tmp_path, path, "fr", ["Une carte cadeau ?"])
    with pytest.raises(AuthoringError, match="no de questions"):
        add_examples(tmp_path, path, "de", ["Gutschein?"])


def test_examples_go_only_into_files_inside_the_kb(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(ARTICLE)
    (tmp_path / "kb").mkdir()
    with pytest.raises(AuthoringError, match="outside"):
        add_examples(tmp_path / "kb", tmp_path / "kb" / ".." / "outside.yaml", "en", ["q?"])
    assert outside.read_text() == ARTICLE


def test_questions_are_one_line_each_and_bounded() -> None:
    assert clean_questions(["a\nb", " x ", "X", "", "y" * 400]) == ["a b", "x", "y" * 300]
    assert len(clean_questions([f"q{n}" for n in range(80)])) == 50
