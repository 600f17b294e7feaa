"""A whole customer message, not one question: several questions, or a story around one.

The matcher reads one question. A message often holds more:

- **several questions** ("how long does delivery take and can I pay with Bancontact?"):
  each is matched on its own; the message as a whole is *not* answered with one article
  (that would leave the other question unanswered as if it were), and `parts` says which
  questions the KB answers so that a reply can answer those and hand off the rest;
- **a long story** around one question (1,471 characters about a visit, ending "so what
  are your hours in Ghent on Saturday?"): the question sentence is what must be answered.
  When the story and the question point to different articles, the question's article is
  kept if it is confident alone; otherwise the message is handed off.

`match_message` returns the `Match` to decide on (as `Matcher.match` would, made safe for
such messages) and the parts; `decide_message` turns it into what the bot does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from knowledge_base.decide import DEFAULT_THRESHOLDS, Decision, Thresholds, decide
from knowledge_base.evidence import content
from knowledge_base.index import Candidate, Match, Matcher
from knowledge_base.text import words

#: From this many words on, a message is a story around its question(s).
LONG_WORDS = 45
#: A question part needs this many words (one of them not a function word) to be matched
#: on its own.
MIN_PART_WORDS = 3
#: More questions than this in one message are not matched one by one (each costs a match;
#: a mail of 300 questions took 0.3 s): the message goes to people.
MAX_QUESTIONS = 5
#: Confidence multiplier for a message whose whole is not one answerable question: 0.99
#: becomes 0.5, which the default thresholds hand off.
UNSAFE_FACTOR = 0.5

#: Sentence ends: "?", "!", ";", a line break, or "." after a word of 4+ letters ("St. Vith"
#: and "bv. de fiets" go on).
_SENTENCE = re.compile(r"(?<=[?!;])\s+|(?<=\w{4}\.)\s+|\n+")
#: "... and can I ...": a second question joined to the first by "and" + a question opener.
_ASKING = (r"(?:can|could|do|does|how|what|when|"
           r"where|which|why|is|are|will|est ce|est-ce|comment|quand|ou|où|combien|pourquoi|puis|"
           r"peut|je peux|on peut|kan|kunnen|hoe|wanneer|waar|welke|waarom|is|zijn|mag|kann|"
           r"konnen|können|wie|wann|wo|welche|warum|ist|sind|darf|"
           # verb-first questions: "and do you have", "en hebben jullie", "und gibt es";
           # without a "?" the clause still needs an opener of _OPENERS to count
           r"have|has|should|would|may|avez|faut|hebben|heeft|hebt|moet|moeten|haben|hat|"
           r"gibt|muss|soll)\b")
_JOINED = re.compile(r"\s*,?\s+(?=(?:and|also|et|aussi|en|ook|und|auch)\s+" + _ASKING + ")",
                     re.IGNORECASE)
#: "How long does delivery take, can I pay with Bancontact and ...": a comma before a
#: question opener, split only when what comes before it asks too ("If I order today, when
#: will it arrive" is one question).
_LISTED = re.compile(r"\s*,\s*(?=" + _ASKING + ")", re.IGNORECASE)
_OPENERS = frozenset(
    "can could do does how what when where which why is are will would "
    "comment quand ou combien pourquoi quel quelle quels quelles est puis peut peux "
    "kan kunnen hoe wanneer waar welke waarom mag zijn is wat "
    "kann konnen wie wann wo welche warum ist sind darf was gibt".split())


@dataclass(frozen=True)
class Part:
    """One question of the message and its own match."""

    text: str
    match: Match


@dataclass(frozen=True)
class MessageMatch:
    #: What to decide on for the message as a whole.
    match: Match
    #: The questions asked, each matched alone: two or more when the message asks several
    #: questions, else empty.
    parts: tuple[Part, ...] = ()
    #: A long message whose question sentence was matched apart from its story.
    long: bool = False


@dataclass(frozen=True)
class MessageDecision:
    #: For the message as a whole (a hand-off when it asks several questions).
    decision: Decision
    #: With several questions: the questions the KB answers, with their decision...
    answered: tuple[tuple[str, Decision], ...] = ()
    #: ...and those it does not (for a person, or to ask about again).
    unanswered: tuple[str, ...] = ()


def questions(text: str) -> list[str]:
    """The sentences or joined clauses of `text` that ask something."""
    found = []
    for sentence in _SENTENCE.split(text.strip()):
        for joined in _JOINED.split(sentence):
            for clause in _listed(joined):
                clause = clause.strip(" ,;")
                if _asks(clause):
                    found.append(clause)
    return found


def _listed(clause: str) -> list[str]:
    """The clause cut at each comma between two questions (see `_LISTED`)."""
    pieces = _LISTED.split(clause)
    kept = [pieces[0]]
    for piece in pieces[1:]:
        if _asks(kept[-1]) and _asks(piece):
            kept.append(piece)
        else:
            kept[-1] = f"{kept[-1]}, {piece}"
    return kept


def _asks(clause: str) -> bool:
    tokens = words(clause)
    if len(tokens) < MIN_PART_WORDS or not any(content(w) for w in tokens):
        return False
    if clause.rstrip().endswith("?"):
        return True
    opener = [w for w in tokens[:3] if w not in ("and", "also", "et", "en", "und", "so", "alors")]
    return bool(opener) and opener[0] in _OPENERS


def match_message(matcher: Matcher, text: str, lang: str | None = None,
                  previous_article_id: str | None = None) -> MessageMatch:
    """The message matched as a whole, made safe when it is not one plain question."""
    with matcher.bounded():  # its questions are read within the message's budget
        return _match_message(matcher, text, lang, previous_article_id)


def _match_message(matcher: Matcher, text: str, lang: str | None,
                   previous_article_id: str | None) -> MessageMatch:
    whole = matcher.match(text, lang, previous_article_id)
    asked = questions(text)
    if len(asked) > MAX_QUESTIONS:  # a questionnaire, or hostile: people read it
        return MessageMatch(_unsafe(whole))
    if len(asked) >= 2:
        parts = tuple(Part(q, matcher.match(q, whole.language)) for q in asked)
        topics = {p.match.best.article_id for p in parts if p.match.best is not None}
        if len(topics) >= 2:  # different questions: no single article answers the message
            return MessageMatch(_unsafe(whole), parts)
    if len(words(text)) < LONG_WORDS or not asked:
        return MessageMatch(whole)
    # the question decides when it is sure alone; otherwise the story may only confirm it
    question = matcher.match(asked[-1], whole.language)
    if _same_best(question, whole):
        assert question.best is not None and whole.best is not None
        return MessageMatch(question if question.best.confidence > whole.best.confidence
                            else whole, long=True)
    if decide(question, DEFAULT_THRESHOLDS).kind == "answer":
        return MessageMatch(question, long=True)
    return MessageMatch(_unsafe(whole), long=True)


def decide_message(message: MessageMatch,
                   thresholds: Thresholds = DEFAULT_THRESHOLDS) -> MessageDecision:
    """The decision for the message, and with several questions which ones are answered."""
    decision = decide(message.match, thresholds)
    if not message.parts:
        return MessageDecision(decision)
    answered, unanswered = [], []
    for part in message.parts:
        verdict = decide(part.match, thresholds)
        if verdict.kind == "answer":
            answered.append((part.text, verdict))
        else:
            unanswered.append(part.text)
    return MessageDecision(decision, tuple(answered), tuple(unanswered))


def _same_best(a: Match, b: Match) -> bool:
    return a.best is not None and b.best is not None and a.best.article_id == b.best.article_id


def _unsafe(match: Match) -> Match:
    """The match with every confidence lowered so the message is not answered as one."""
    return replace(match, candidates=[
        Candidate(c.article_id, round(c.confidence * UNSAFE_FACTOR, 4), c.matched_question)
        for c in match.candidates])
