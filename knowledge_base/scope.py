"""Does the article answer the question at all? Evidence the classifier cannot see.

A classifier trained on a KB's articles names its likeliest article whatever it is asked:
"I forgot my gmail password" reaches the KB's password article at 0.99, because "password"
is the only word it knows. What gives such a question away is a word of it that the
article never mentions, above all a *thing* of some other business: a device, a vehicle,
food, an animal, a public service, another company's app or brand ("gmail", "barbecue",
"Fitnessstudio"), listed in data/things.yaml. Two checks, per candidate article:

- **foreign thing**: the question names a listed thing (a word, a phrase, or the head or
  tail of a Dutch/German compound: "waterfactuur", "Handy-Akku") that none of the article's
  examples or titles, in any language, contains. A KB about that thing mentions it in its
  own examples, so the list never blocks a KB's own topics;
- **coverage**: the share of the question's content words (function words aside) that the
  article explains, by folded form, stem, or as part of a compound or longer form
  ("rechnungskopie", "nieuwe"). A question the article explains less than a third of is
  more likely about something else.

Each failed check multiplies the candidate's confidence by a factor (see `factor`), so the
confidence estimates P(this article answers this question) and the usual thresholds hand
such questions off. Measured in docs/knowledge-base.md#open-set-confidence.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

import yaml

from knowledge_base.evidence import content, function_words
from knowledge_base.model import LANGUAGES, Article
from knowledge_base.text import stem, words

#: Confidence multiplier for a candidate that leaves a foreign thing unexplained: 0.99
#: becomes 0.2, under any answer or clarify threshold worth using.
THING_FACTOR = 0.2
#: Confidence multiplier when the article explains too little of the question.
LOW_COVERAGE_FACTOR = 0.5
#: ...that is, less than this share of its content words (and at least two of them).
MIN_COVERAGE = 0.25
#: Shortest listed thing that counts as the head or tail of a compound ("water" in
#: "waterfactuur"); shorter ones ("auto", "bus") begin too many unrelated words.
MIN_COMPOUND_PART = 5
#: Shortest example word that explains a longer or shorter form of itself.
MIN_PART = 5
#: From this many content words on, a message is a story around a question and the
#: coverage check does not apply (the foreign-thing check still does).
MAX_COVERAGE_WORDS = 12
#: A listed thing that at least this share of the articles mention is the KB's own topic.
DOMAIN_SHARE = 0.25
#: Words (and listed things) whose look-ups a built KB remembers.
_REMEMBERED = 50_000
#: Languages that glue nouns into compounds ("Stromzähler", "klantenkaart").
_COMPOUNDING = frozenset({"nl", "de"})


@dataclass(frozen=True)
class Check:
    """What speaks against one article answering one question."""

    #: Listed things the question names and the article does not.
    things: tuple[str, ...]
    #: Content words of the question the article does not explain.
    unexplained: tuple[str, ...]
    #: Share of the question's content words the article explains (1.0 without any).
    coverage: float

    @property
    def factor(self) -> float:
        """The confidence multiplier: 1.0 when nothing speaks against the article."""
        result = THING_FACTOR if self.things else 1.0
        if self.coverage < MIN_COVERAGE and len(self.unexplained) >= 2:
            result *= LOW_COVERAGE_FACTOR
        return result


@dataclass(frozen=True)
class _Things:
    words: frozenset[str]
    phrases: tuple[tuple[str, ...], ...]
    compound_parts: tuple[str, ...]
    #: four-letter things ("auto", "taxi") that head a compound only before a KB word
    short_heads: tuple[str, ...]
    #: names that read the same in every language ("gmail", "Netflix")
    brands: frozenset[str]


@functools.cache
def _data() -> dict[str, dict[str, str]]:
    text = resources.files("knowledge_base").joinpath("data/things.yaml").read_text("utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(text)
    return data


@functools.cache
def _things(lang: str) -> _Things:
    """The listed things of one language (plus the brands of all), folded and stemmed."""
    data = _data()
    single: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    for other, categories in data.items():
        for category, line in categories.items():
            if other != lang and category != "brands":
                continue
            for entry in line.split():
                parts = tuple(words(entry.replace("_", " ")))
                if len(parts) == 1:
                    single.update((parts[0], stem(parts[0], lang)))
                elif parts:
                    phrases.add(parts)
    parts_ = tuple(sorted(w for w in single if len(w) >= MIN_COMPOUND_PART))
    heads = tuple(sorted(w for w in single if len(w) == MIN_COMPOUND_PART - 1))
    brands = frozenset(w for line in (c.get("brands", "") for c in data.values())
                       for w in words(line))
    return _Things(frozenset(single), tuple(sorted(phrases)), parts_, heads, brands)


class Meaning(Protocol):
    """Across languages: the articles (numbers in build order) whose words mean `word`."""

    def articles(self, word: str) -> frozenset[int]: ...


class Scope:
    """The words each article explains; built with the matcher, immutable afterwards.

    With `meaning` (the multilingual extra), a listed thing of a question in a language an
    article lacks counts against it unless the article says it in its own language
    ("voiture" to an English article about cars is explained, to one about bikes not).
    """

    def __init__(self, articles: Iterable[Article],
                 correct: Callable[[str], str] = lambda word: word,
                 meaning: Meaning | None = None) -> None:
        self._meaning = meaning
        self._keys: list[frozenset[str]] = []
        #: per article, its languages: in another one, only brands and names can be checked
        self._languages: list[frozenset[str]] = []
        #: per article, its words as written (folded), and the long ones among them
        self._words: list[frozenset[str]] = []
        self._compounds: list[tuple[str, ...]] = []
        #: per article, the beginnings of its long words: "nieuw" explains "nieuwe" and
        #: the other way round, in one set look-up per beginning of the question's word
        self._starts: list[frozenset[str]] = []
        for article in articles:
            keys, languages, written, compounds, starts = _article_words(article)
            self._keys.append(keys)
            self._languages.append(languages)
            self._words.append(written)
            self._compounds.append(compounds)
            self._starts.append(starts)
        for lang in LANGUAGES:  # read and stemmed now, in the builder's thread: the first
            _things(lang)      # question in a language took 5-15 ms more (benchmark p99)
            function_words(lang)
        self._correct = correct
        self._vocabulary = frozenset().union(*self._keys) if self._keys else frozenset()
        # Look-ups remembered per built KB (a dict write is atomic: safe across threads).
        self._parts: dict[tuple[str, str], str | None] = {}
        self._owners_of: dict[tuple[str, str], frozenset[int]] = {}

    def checks(self, text: str, lang: str, articles: Iterable[int]) -> list[Check]:
        """The evidence against each of `articles` (numbers in build order) answering
        `text`. The question's words are read once for all of them."""
        tokens = words(text)
        found = [w for w in dict.fromkeys(tokens) if content(w, lang)]
        parts = {w: part for w in found if (part := self._thing_part(w, lang)) is not None}
        phrases = [p for p in _things(lang).phrases if _contains(tokens, p)]
        corrected = ({w: self._correct(w) for w in found if w not in parts}
                     if len(found) <= MAX_COVERAGE_WORDS else {})  # only coverage reads them
        return [self._check(article, found, parts, phrases, corrected, lang)
                for article in articles]

    def check(self, text: str, lang: str, article: int) -> Check:
        """The evidence against article number `article` (in build order) answering `text`."""
        return self.checks(text, lang, [article])[0]

    def _check(self, article: int, found: list[str], parts: dict[str, str],
               phrases: list[tuple[str, ...]], corrected: dict[str, str], lang: str) -> Check:
        keys = self._keys[article]
        own_language = lang in self._languages[article]
        things = [w for w, part in parts.items() if self._is_foreign(article, part, lang)
                  and (own_language or part in _things(lang).brands
                       or self._means_other(article, part))]
        if own_language:
            things += [" ".join(p) for p in phrases if not all(w in keys for w in p)]
        # A long message tells a story around its question, and an article without the
        # question's language cannot share its words: coverage says little of either (and
        # is not worked out: a long message's words would cost milliseconds per article).
        if not (found and len(found) <= MAX_COVERAGE_WORDS and own_language):
            return Check(tuple(things), (), 1.0)
        explained = {w for w in found if w not in things
                     and (self._explains(article, w, lang)
                          or self._explains(article, corrected.get(w, w), lang))}
        unexplained = tuple(w for w in found if w not in explained)
        return Check(tuple(things), unexplained, len(explained) / len(found))

    def _explains(self, article: int, word: str, lang: str) -> bool:
        keys = self._keys[article]
        if word in keys or stem(word, lang) in keys:
            return True
        if len(word) < MIN_PART:
            return False
        if word in self._starts[article]:  # the beginning of a longer example word
            return True
        if lang in _COMPOUNDING:  # an example word begins or ends it: "rechnungskopie"
            return any(word[:end] in keys or word[-end:] in keys
                       for end in range(MIN_PART, len(word)))
        # otherwise only an ending: "reserver" explains "reserveren", not "electric" "electricity"
        return any(word[:end] in keys for end in range(max(MIN_PART, len(word) - 3), len(word)))

    def _is_foreign(self, article: int, part: str, lang: str) -> bool:
        """Whether the listed thing `part` (a question's word, or the part of it that is
        listed) is one the article does not mention, and not the whole KB's business.

        A thing is explained only by itself (give or take a plural): "thermometer" is not a
        kind of "meter", "electricity" not an "electric" bike, and "gmail" not a typo of
        "email". In a compound only the listed part needs explaining: "Stromvertrag" by an
        article that mentions "Strom" or "Stromzähler". A thing that many articles mention
        is what the company is about ("bike" in a bike shop's warranty question).
        """
        owners = self._owners(part, lang)
        return article not in owners and len(owners) < max(2, DOMAIN_SHARE * len(self._words))

    def _means_other(self, article: int, part: str) -> bool:
        """Whether no word of the article (in its languages) means the listed thing, and
        few articles' words do (what many articles mean is the KB's business)."""
        if self._meaning is None:
            return False
        owners = self._meaning.articles(part)
        return article not in owners and len(owners) < max(2, DOMAIN_SHARE * len(self._words))

    def _owners(self, part: str, lang: str) -> frozenset[int]:
        """The articles that mention a listed thing (remembered: few things recur)."""
        cached = self._owners_of.get((part, lang))
        if cached is None:
            forms = _forms(part)
            cached = frozenset(
                i for i, written in enumerate(self._words)
                if any(form in written for form in forms)
                or (lang in _COMPOUNDING and any(k.startswith(part) or k.endswith(part)
                                                 for k in self._compounds[i])))
            if len(self._owners_of) < _REMEMBERED:
                self._owners_of[(part, lang)] = cached
        return cached

    def _thing_part(self, word: str, lang: str) -> str | None:
        """The listed thing `word` is, or begins or ends with (compounds), if any."""
        if (word, lang) in self._parts:
            return self._parts[(word, lang)]
        part = self._find_part(word, lang)
        if len(self._parts) < _REMEMBERED:
            self._parts[(word, lang)] = part
        return part

    def _find_part(self, word: str, lang: str) -> str | None:
        things = _things(lang)
        if word in things.words or stem(word, lang) in things.words:
            return word
        if lang not in _COMPOUNDING or len(word) <= MIN_COMPOUND_PART + 1:
            return None
        for t in things.compound_parts:
            if word.startswith(t) or word.endswith(t):
                return t
        # a short head ("Auto") only before a word the KB uses ("Autobatterie")
        for t in things.short_heads:
            if word.startswith(t) and word[len(t):] in self._vocabulary:
                return t
        return None


_ArticleWords = tuple[frozenset[str], frozenset[str], frozenset[str], tuple[str, ...],
                      frozenset[str]]
#: Articles whose words `_article_words` remembers (a hot reload reads only the edited ones).
_REMEMBERED_ARTICLES = 20_000
_article_memo: dict[tuple[tuple[str, str, tuple[str, ...]], ...], _ArticleWords] = {}


def _article_words(article: Article) -> _ArticleWords:
    """An article's keys, languages, words as written, long words and beginnings of long
    keys; remembered by the article's examples, so a rebuild after an edit (a 15,000-question
    KB: 5 s of stemming) reads only the articles that changed."""
    examples = tuple((lang, t.title, t.questions) for lang, t in article.translations.items())
    found = _article_memo.get(examples)
    if found is not None:
        return found
    keys = frozenset(key for lang, title, questions in examples
                     for text in (title, *questions) for key in _keys(words(text), lang))
    written = frozenset(w for _, title, questions in examples
                        for text in (title, *questions) for w in words(text))
    found = (keys, frozenset(article.translations), written,
             tuple(w for w in written if len(w) > MIN_COMPOUND_PART),
             frozenset(k[:end] for k in keys if len(k) >= MIN_PART
                       for end in range(MIN_PART, len(k) + 1)))
    if len(_article_memo) >= _REMEMBERED_ARTICLES:
        _article_memo.clear()
    _article_memo[examples] = found  # a dict write is atomic across threads
    return found


def _keys(tokens: list[str], lang: str) -> set[str]:
    """What an example explains: its content words, their stems, and adjacent words joined
    ("e bike" explains "ebike"); function words of its language explain nothing (the
    French "car" is "because", not a car)."""
    kept = [w for w in tokens if content(w, lang) or len(w) == 1]
    joined = [a + b for a, b in itertools.pairwise(kept)]
    return {key for word in kept + joined for key in (word, stem(word, lang))
            if content(word, lang)}


def _forms(word: str) -> tuple[str, ...]:
    """A word and its likely singular and plural forms, for listed things."""
    forms = [word, word + "s", word + "e", word + "en"]
    forms += [word[:-cut] for cut in (1, 2) if len(word) > cut + 3]
    return tuple(forms)


def _contains(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(tokens[i:i + size]) == phrase for i in range(len(tokens) - size + 1))
