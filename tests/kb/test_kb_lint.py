"""kb lint findings an admin acts on."""

from __future__ import annotations

from pathlib import Path

from knowledge_base.files import LoadResult, load_directory
from knowledge_base.index import Matcher, MatcherSettings
from knowledge_base.lint import lint


def _messages(result: LoadResult) -> list[str]:
    return [str(issue) for issue in lint(result)]


def test_fixture_kb_has_no_errors_but_a_missing_translation(kb: LoadResult) -> None:
    issues = lint(kb)
    assert {i.severity for i in issues} == {"warning"}
    missing = [i for i in issues if "missing translation" in i.message]
    assert [i.article_id for i in missing] == ["business-leasing"]
    assert "missing translation(s): de, fr" in missing[0].message


def test_errors_in_answers_and_examples_are_reported(kb_copy: Path) -> None:
    warranty = kb_copy / "warranty.yaml"
    text = warranty.read_text()
    text = text.replace("Frames carry a 10-year warranty",
                        "Dear {customer.nmae}, {company.phone frames carry a warranty")
    text = text.replace("      - warranty on the battery\n",
                        "      - warranty on the battery\n      - When are your shops open?\n")
    warranty.write_text(text)
    (kb_copy / "empty-answer.yaml").write_text(
        "id: empty-answer\ncategory: order\ntranslations:\n  en:\n    title: t\n"
        "    questions: [something entirely different about pizza]\n    answer: ''\n")
    (kb_copy / "broken.yaml").write_text("id: [\n")
    issues = lint(load_directory(kb_copy))
    errors = [str(i) for i in issues if i.severity == "error"]
    joined = "\n".join(errors)
    assert "broken.yaml: line 2: invalid YAML" in joined
    assert "[warranty] en: unknown placeholder {customer.nmae}" in joined
    assert "[warranty] en: unbalanced" in joined
    assert "[empty-answer] en: empty answer" in joined
    assert "example question 'when are your shops open' also under warranty" in joined
    assert issues[0].severity == "error" and issues[-1].severity == "warning"


def test_articles_the_matcher_confuses_are_reported_in_pairs(kb_copy: Path) -> None:
    questions = ["where is my parcel", "where is my package", "track my parcel",
                 "track my package", "status of my parcel", "status of my package"]
    for article_id in ("parcel-tracking", "package-tracking"):
        listed = "".join(f"      - {q}\n" for q in questions[::-1 if "pack" in article_id else 1])
        (kb_copy / f"{article_id}.yaml").write_text(
            f"id: {article_id}\ncategory: order\ntranslations:\n  en:\n    title: {article_id}\n"
            f"    questions:\n{listed}    answer: Track it online.\n")
    text = "\n".join(_messages(load_directory(kb_copy)))
    assert "confused with 'package-tracking'" in text or "confused with 'parcel-tracking'" in text


def test_open_set_lint_names_articles_out_of_scope_questions_reach(kb: LoadResult) -> None:
    # The fixture KB's opening-hours article has no shop or brand names in its examples:
    # "what are the opening hours of the library" reaches it.
    open_set = Matcher.build(kb.articles.values(), MatcherSettings(open_set=True))
    reached = [i for i in lint(kb, open_set) if "out-of-scope questions would reach" in i.message]
    assert reached and all(i.severity == "warning" for i in reached)
    assert "opening-hours" in {i.article_id for i in reached}
    # The default matcher does not learn the background set: its questions are asked as a
    # customer would, and "I forgot my streaming service password" is answered with the
    # fixture's password article.
    asked = [i for i in lint(kb) if "out-of-scope questions would reach" in i.message]
    assert "password-reset" in {i.article_id for i in asked}
    assert all("are answered with it" in i.message for i in asked)
