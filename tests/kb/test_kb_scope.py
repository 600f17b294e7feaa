"""Open-set confidence: a question about something no article mentions is handed off.

The closed-set classifier alone answers "I forgot my gmail password" with the password
article at 0.99; the scope check (knowledge_base/scope.py) must bring it under the answer
threshold, while the same question about the KB's own account is still answered.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURE_KB

from knowledge_base.decide import decide
from knowledge_base.index import Matcher, MatcherSettings
from knowledge_base.model import Article, Translation
from knowledge_base.scope import Scope

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "lang"), [
    ("I forgot my gmail password", "en"),
    ("is my washing machine still under warranty", "en"),
    ("j'ai oublié le mot de passe de mon compte Instagram", "fr"),
    ("wat zijn de openingsuren van het zwembad", "nl"),  # "zwembad": a compound noun
    ("Ich habe mein Amazon-Passwort vergessen", "de"),
    ("wie lange dauert die Lieferung einer Pizza", "de"),
])
def test_questions_about_other_things_are_handed_off(matcher: Matcher, text: str,
                                                     lang: str) -> None:
    assert decide(matcher.match(text, lang)).kind == "handoff"
    closed = Matcher.build(matcher.articles, MatcherSettings(scope_check=False))
    assert decide(closed.match(text, lang)).kind == "answer"  # what the check prevents


@pytest.mark.parametrize(("text", "lang", "article"), [
    ("I forgot my password", "en", "password-reset"),
    ("my motor broke after a year, is that covered by the warranty", "en", "warranty"),
    ("j'ai oublié mon mot de passe", "fr", "password-reset"),
    ("wat zijn jullie openingsuren op zaterdag", "nl", "opening-hours"),
    ("Ich habe mein Passwort vergessen", "de", "password-reset"),
    ("how long does delivery take to Ghent", "en", "delivery-time"),
])
def test_the_kbs_own_questions_are_still_answered(matcher: Matcher, text: str, lang: str,
                                                  article: str) -> None:
    decision = decide(matcher.match(text, lang))
    assert (decision.kind, decision.article_id) == ("answer", article)


def test_a_kb_about_a_listed_thing_answers_about_it() -> None:
    # "pizza" is listed as some other business's thing; a pizzeria's KB mentions it.
    def article(id_: str, title: str, *questions: str) -> Article:
        return Article(id=id_, category="information",
                       translations={"en": Translation(title, questions, "...")})

    matcher = Matcher.build([
        article("delivery", "How long does pizza delivery take?", "when will my pizza arrive",
                "delivery time of my order"),
        article("password", "I forgot my password", "reset my password",
                "I can't log in to my account"),
        article("hours", "When are you open?", "opening hours of the restaurant",
                "are you open on sunday"),
    ])
    decision = decide(matcher.match("how long does delivery of a pizza take", "en"))
    assert (decision.kind, decision.article_id) == ("answer", "delivery")
    assert decide(matcher.match("I forgot my gmail password", "en")).kind == "handoff"


@pytest.mark.parametrize(("option", "decision"), [((), "handoff"),
                                                  (("--no-scope-check",), "answer")])
def test_kb_ask_hands_off_a_question_about_another_companys_account(
        option: tuple[str, ...], decision: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "knowledge_base", "ask", str(FIXTURE_KB),
         "I forgot my gmail password", "--lang", "en", *option],
        capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(decision)


def test_an_article_without_the_questions_language_is_checked_on_names_only() -> None:
    # An English-only article cannot share a French question's words ("vélo" is its
    # "bike"): only names that read the same in every language count against it.
    battery = Article(id="battery", category="assistance", translations={"en": Translation(
        "My bike battery does not charge", ("the battery of my e-bike is dead",), "...")})
    scope = Scope([battery])
    french = scope.check("la batterie de mon vélo ne charge plus du tout", "fr", 0)
    assert french.things == () and french.factor == 1.0
    assert scope.check("la batterie de ma télécommande Samsung", "fr", 0).things == ("samsung",)
    english = scope.check("my laptop battery does not charge", "en", 0)
    assert english.things == ("laptop",) and english.factor < 0.5
