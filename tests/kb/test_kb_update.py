"""A hot reload after one edited file updates the matcher (`Matcher.build(previous=...)`):
only the edited article is read and trained again, and it answers as a full build does."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from knowledge_base import index
from knowledge_base.cases import Case, load_cases
from knowledge_base.decide import decide
from knowledge_base.features import Featurizer
from knowledge_base.files import load_directory
from knowledge_base.index import Matcher
from knowledge_base.model import Article
from tests.conftest import DEMO_KB, ROOT

NEW_QUESTIONS = ("is the gearbox of my cargo bike under guarantee",
                 "my derailleur broke after a month, is that covered")


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    return load_directory(DEMO_KB).articles


@pytest.fixture(scope="module")
def before(articles: dict[str, Article]) -> Matcher:
    return Matcher.build(articles.values())


def with_questions(article: Article, questions: tuple[str, ...]) -> Article:
    english = article.translations["en"]
    return dataclasses.replace(article, translations={
        **article.translations,
        "en": dataclasses.replace(english, questions=english.questions + questions)})


def test_an_edited_article_is_retrained_alone_and_answers_as_a_full_build(
        articles: dict[str, Article], before: Matcher) -> None:
    edited = {**articles, "warranty": with_questions(articles["warranty"], NEW_QUESTIONS)}
    updated = Matcher.build(edited.values(), previous=before)
    full = Matcher.build(edited.values())
    assert updated.updated == ("warranty",)
    assert full.updated is None
    cases = load_cases(ROOT / "config" / "kb-tests.yaml")
    assert len(cases) > 50
    for case in [*cases, *(Case(text=q, lang="en", expected="warranty") for q in NEW_QUESTIONS)]:
        got, want = updated.match(case.text, case.lang), full.match(case.text, case.lang)
        a, b = decide(got), decide(want)
        assert (a.kind, a.article_id, a.choices) == (b.kind, b.article_id, b.choices), case.text
        if got.best is not None and want.best is not None:
            # the other articles' models and the temperature are the previous KB's
            assert abs(got.best.confidence - want.best.confidence) < 0.05, case.text
    assert decide(updated.match(NEW_QUESTIONS[0], "en")).article_id == "warranty"


def test_an_edit_that_changes_no_example_retrains_nothing(
        articles: dict[str, Article], before: Matcher) -> None:
    warranty = articles["warranty"]
    english = warranty.translations["en"]
    answer_only = dataclasses.replace(warranty, translations={
        **warranty.translations, "en": dataclasses.replace(english, answer="Two years.")})
    updated = Matcher.build({**articles, "warranty": answer_only}.values(), previous=before)
    assert updated.updated is None  # the models are exactly a full build's
    for text in ("is my battery under warranty", "how long does delivery take"):
        assert updated.match(text, "en") == before.match(text, "en")


def test_new_and_removed_articles_are_an_update_many_changes_a_full_build(
        articles: dict[str, Article], before: Matcher, monkeypatch: pytest.MonkeyPatch) -> None:
    gift = Article(id="gift-vouchers", category="sales", translations={"en": dataclasses.replace(
        articles["warranty"].translations["en"], title="Gift vouchers",
        questions=("do you sell gift vouchers", "can I buy a gift card"), answer="Yes.")})
    kept = {k: v for k, v in articles.items() if k != "test-ride"}
    updated = Matcher.build([*kept.values(), gift], previous=before)
    assert set(updated.updated or ()) == {"gift-vouchers"}
    assert decide(updated.match("do you sell gift vouchers for a birthday", "en")
                  ).article_id == "gift-vouchers"
    assert all(c.article_id != "test-ride"
               for c in updated.match("can I do a test ride", "en").candidates)
    many = [with_questions(a, (f"one more way to ask about {a.id}",)) if i < 4 else a
            for i, a in enumerate(articles.values())]
    assert len(Matcher.build(many, previous=before).updated or ()) == 4
    monkeypatch.setattr(index, "MAX_UPDATED_ARTICLES", 3)
    assert Matcher.build(many, previous=before).updated is None  # built in full


def test_an_extended_featurizer_gives_a_full_fits_features_and_idf(
        articles: dict[str, Article]) -> None:
    texts = [q for a in articles.values() for t in a.translations.values() for q in t.questions]
    langs = ["en"] * len(texts)
    old = Featurizer()
    old.fit_transform(texts, langs)
    edited = texts[5:] + list(NEW_QUESTIONS)  # some questions gone, two new ones
    extended = Featurizer(extending=old).fit_transform(edited, [*langs[5:], "en", "en"])
    fresh = Featurizer().fit_transform(edited, [*langs[5:], "en", "en"])
    assert extended.shape[1] > fresh.shape[1]  # the columns of the old texts stay
    # the same vectors, in other columns: every pair of rows is as similar
    assert np.abs((extended @ extended.T - fresh @ fresh.T).toarray()).max() < 1e-12
