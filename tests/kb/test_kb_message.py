"""Whole messages: several questions in one, or a long story around one question."""

from __future__ import annotations

import pytest

from knowledge_base.decide import decide
from knowledge_base.index import Matcher
from knowledge_base.message import decide_message, match_message, questions

STORY = (
    "Hello, I hope you are well. Last month I ordered a bike from your webshop and it came "
    "two days late, which was annoying because I had taken a day off to wait for it, and the "
    "driver was rather rude, but the bike itself is lovely and my daughter rides it to school "
    "every day. Now the brakes squeak a little and I would like someone to look at them when "
    "I have time. I work during the week. So until what time are you open on Saturday?")


@pytest.mark.parametrize(("text", "parts"), [
    ("how long does delivery take and are you open on Saturday?", 2),
    ("Combien de temps prend la livraison ? Et vous êtes ouverts le samedi ?", 2),
    ("Hoe lang duurt de levering en zijn jullie open op zaterdag?", 2),
    ("Wie lange dauert die Lieferung und wann haben Sie samstags geöffnet?", 2),
    ("how long does delivery take?", 1),
    ("I forgot my password", 0),
    # questions listed with commas, but not a condition before its question
    ("How long does delivery take, can I pay with Bancontact and do you have a shop in Ghent?",
     3),
    ("Hoe lang duurt de levering, kan ik met Bancontact betalen?", 2),
    ("If I order a bike today, when will it arrive?", 1),
    ("Als ik vandaag bestel, wanneer komt mijn fiets?", 1),
    ("Hello, how long does delivery take?", 1),
    ("Hoe lang duurt de levering en hebben jullie een winkel in Gent?", 2),
    ("Wie lange dauert die Lieferung und gibt es einen Laden in Gent?", 2),
    ("How long does delivery take? Have a nice day", 1),
])
def test_questions_are_found_in_the_four_languages(text: str, parts: int) -> None:
    assert len(questions(text)) == parts


@pytest.mark.parametrize(("text", "lang"), [
    ("how long does delivery take and are you open on Saturday?", "en"),
    ("Hoe lang duurt de levering en zijn jullie open op zaterdag?", "nl"),
])
def test_two_questions_are_not_answered_as_one(matcher: Matcher, text: str, lang: str) -> None:
    message = decide_message(match_message(matcher, text, lang))
    assert message.decision.kind == "handoff"  # one article would leave half unanswered
    assert sorted(d.article_id or "" for _, d in message.answered) == [
        "delivery-time", "opening-hours"]
    assert message.unanswered == ()


def test_the_question_the_kb_cannot_answer_is_left_for_a_person(matcher: Matcher) -> None:
    text = "how long does delivery take? and can I bring my dog to the shop?"
    message = decide_message(match_message(matcher, text, "en"))
    assert message.decision.kind == "handoff"
    assert [d.article_id for _, d in message.answered] == ["delivery-time"]
    assert message.unanswered == ("and can I bring my dog to the shop?",)


def test_the_question_of_a_long_story_is_what_is_answered(matcher: Matcher) -> None:
    message = match_message(matcher, STORY, "en")
    decision = decide(message.match)
    assert message.long and (decision.kind, decision.article_id) == ("answer", "opening-hours")


def test_one_plain_question_is_matched_as_before(matcher: Matcher) -> None:
    text = "how long does delivery take to Ghent?"
    message = match_message(matcher, text, "en")
    assert message.match == matcher.match(text, "en") and not message.parts


def test_a_questionnaire_is_handed_off_without_matching_each_question(matcher: Matcher) -> None:
    text = " ".join(["How long does delivery take?", "Are you open on Saturday?"] * 4)
    message = match_message(matcher, text, "en")
    assert not message.parts and decide(message.match).kind == "handoff"

