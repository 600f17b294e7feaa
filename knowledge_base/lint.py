"""Checks an admin runs before publishing KB edits (`helpdesk-gateway kb lint DIR`).

Errors break the customer experience (a question that can never be answered, a broken
placeholder shown verbatim); warnings are quality problems worth a look.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from knowledge_base import background
from knowledge_base.action_lint import action_problems
from knowledge_base.decide import decide
from knowledge_base.files import LoadResult
from knowledge_base.index import Matcher
from knowledge_base.render import KNOWN_PLACEHOLDERS
from knowledge_base.text import words

#: An article pair is reported when at least this share of one's examples go to the other.
CONFUSION_SHARE = 0.2
#: ... and at least this many examples do.
CONFUSION_MIN = 2
#: An article is reported when at least this many background questions go to it.
BACKGROUND_MIN = 2
#: At most this many of them are listed per article (`kb lint --json`'s "questions").
BACKGROUND_LISTED = 25
_BRACES = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class LintIssue:
    severity: Literal["error", "warning"]
    article_id: str | None
    path: Path | None
    message: str
    #: The questions behind the warning, when it has some (background questions that reach
    #: the article), for an admin to copy into counter-examples.
    questions: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        article = f"[{self.article_id}] " if self.article_id else ""
        return f"{self.severity}: {where}{article}{self.message}"


def lint(result: LoadResult, matcher: Matcher | None = None,
         integrations: Collection[str] | None = None) -> list[LintIssue]:
    """Every problem found in a loaded KB, errors first; `integrations`: the names the
    gateway has under `[integrations]` (None: actions' integrations are not checked)."""
    issues = [LintIssue("error", None, e.path, f"line {e.line}: {e.message}"
                        if e.line is not None else e.message) for e in result.errors]
    issues += _translations(result) + _answers(result) + _duplicates(result)
    issues += [LintIssue(severity, article.id, article.source, message)
               for article in result.articles.values()
               for severity, message in action_problems(article, integrations)]
    if result.articles:
        matcher = matcher or Matcher.build(result.articles.values())
        issues += _confusions(result, matcher) + _background_hits(result, matcher)
    return sorted(issues, key=lambda i: (i.severity != "error", str(i.path), i.article_id or ""))


def _translations(result: LoadResult) -> list[LintIssue]:
    used = sorted({lang for a in result.articles.values() for lang in a.translations})
    issues = []
    for article in result.articles.values():
        missing = [lang for lang in used if lang not in article.translations]
        if missing:
            issues.append(LintIssue("warning", article.id, article.source,
                                    f"missing translation(s): {', '.join(missing)} "
                                    "(customers get the English or first one instead)"))
        if article.source is not None and article.source.stem != article.id:
            issues.append(LintIssue("warning", article.id, article.source,
                                    f"file name does not match id '{article.id}'"))
    return issues


def _answers(result: LoadResult) -> list[LintIssue]:
    issues = []
    for article in result.articles.values():
        for lang, translation in article.translations.items():
            if not translation.answer.strip() and not article.handoff \
                    and article.action is None:
                issues.append(LintIssue("error", article.id, article.source,
                                        f"{lang}: empty answer"))
            for inner in _BRACES.findall(translation.answer):
                if inner.strip() not in KNOWN_PLACEHOLDERS:
                    issues.append(LintIssue(
                        "error", article.id, article.source,
                        f"{lang}: unknown placeholder {{{inner}}} (known: "
                        f"{', '.join(sorted(KNOWN_PLACEHOLDERS))})"))
            unbalanced = _BRACES.sub("", translation.answer)
            if "{" in unbalanced or "}" in unbalanced:
                issues.append(LintIssue("error", article.id, article.source,
                                        f"{lang}: unbalanced '{{' or '}}' in the answer"))
    return issues


def _duplicates(result: LoadResult) -> list[LintIssue]:
    """The same question (ignoring case, accents, punctuation) under two articles."""
    owners: dict[str, set[str]] = defaultdict(set)
    for article in result.articles.values():
        for translation in article.translations.values():
            for question in translation.questions:
                owners[" ".join(words(question))].add(article.id)
    issues = []
    for question, ids in sorted(owners.items()):
        if len(ids) > 1:
            first, *others = sorted(ids)
            issues.append(LintIssue(
                "error", first, result.articles[first].source,
                f"example question '{question}' also under {', '.join(others)}"))
    return issues


def _confusions(result: LoadResult, matcher: Matcher) -> list[LintIssue]:
    """Article pairs the matcher mixes up on their own examples (cross-validated)."""
    totals: Counter[str] = Counter()
    for article in result.articles.values():
        for translation in article.translations.values():
            totals[article.id] += len(translation.questions)
    mistakes = matcher.held_out_confusions()
    pairs = Counter((truth, guess) for _, truth, guess in mistakes)
    issues = []
    for (truth, guess), count in sorted(pairs.items()):
        if count >= CONFUSION_MIN and count / max(totals[truth], 1) >= CONFUSION_SHARE:
            examples = [q for q, t, g in mistakes if (t, g) == (truth, guess)][:3]
            issues.append(LintIssue(
                "warning", truth, result.articles[truth].source if truth in result.articles
                else None,
                f"confused with '{guess}': {count} of its examples match that article "
                f"better, e.g. {'; '.join(repr(q) for q in examples)}"))
    return issues


def _background_hits(result: LoadResult, matcher: Matcher) -> list[LintIssue]:
    """Articles that out-of-scope questions of the shipped background set would reach.

    The default matcher never learns the background set, so each question is asked as a
    customer would and counted when it is answered with the article or offered it in a
    clarification (default thresholds). The open-set matcher learns it, so there the
    questions are scored in held-out folds instead (`Matcher.background_hits`)."""
    hits: defaultdict[str, list[str]] = defaultdict(list)
    if matcher.settings.open_set:
        for question, article_id in matcher.background_hits():
            hits[article_id].append(background.originals().get(question, question))
    else:
        for question, lang in background.written_and_generated():
            decision = decide(matcher.match(question, lang))
            if decision.kind == "answer" and decision.article_id is not None:
                hits[decision.article_id].append(question)
            elif decision.kind == "clarify":
                for article_id in decision.choices:
                    hits[article_id].append(question)
    return [LintIssue(
        "warning", article_id, result.articles[article_id].source,
        f"out-of-scope questions would reach it: {len(questions)} background questions "
        f"{'match' if matcher.settings.open_set else 'are answered with'} it, e.g. "
        f"{'; '.join(repr(q) for q in _varied(questions))} (add such questions to a "
        "counter-example article with handoff: true, or make its examples name what it is "
        "about: product names, the company's own terms)",
        tuple(questions[:BACKGROUND_LISTED]))
        for article_id, questions in sorted(hits.items())
        if len(questions) >= BACKGROUND_MIN and article_id in result.articles
        and not result.articles[article_id].handoff]  # a counter-example is meant to


def _varied(questions: list[str], count: int = 3) -> list[str]:
    """A few examples, unlike each other: the generated questions come in runs of one
    template ("is my sofa / mattress / ... still under warranty")."""
    shown: list[str] = []
    for question in questions:
        first = words(question)[:2]
        if all(words(q)[:2] != first for q in shown):
            shown.append(question)
        if len(shown) == count:
            break
    return shown or questions[:count]
