"""Test cases for `kb test`: what customers ask and which article should answer.

YAML (a list of mappings) or JSON Lines, each `{text, lang?, expected}` with `expected` an
article id or null (the bot must hand off). Scored exactly like the benchmark.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from knowledge_base.decide import Decision, Thresholds, decide
from knowledge_base.errors import KBFileError
from knowledge_base.index import Match, Matcher


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    lang: str | None = None
    expected: str | None


@dataclass(frozen=True)
class Outcome:
    case: Case
    match: Match
    decision: Decision

    @property
    def passed(self) -> bool:
        """Answered with the expected article, offered it as a choice, or handed off a null."""
        if self.case.expected is None:
            return self.decision.kind == "handoff"
        if self.decision.kind == "clarify":
            return self.case.expected in self.decision.choices
        return self.decision.kind == "answer" and self.decision.article_id == self.case.expected


def load_cases(path: Path) -> list[Case]:
    """Read a YAML or JSONL case file; KBFileError names the file and line of a bad case."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KBFileError(path, None, f"cannot read file: {exc}") from exc
    raw: list[tuple[int | None, object]] = []
    if path.suffix == ".jsonl":
        for line_number, row in enumerate(text.splitlines(), 1):
            if row.strip():
                try:
                    raw.append((line_number, json.loads(row)))
                except json.JSONDecodeError as exc:
                    raise KBFileError(path, line_number, f"invalid JSON: {exc.msg}") from exc
    else:
        try:
            data = yaml.safe_load(text) or []
        except yaml.YAMLError as exc:
            raise KBFileError(path, None, f"invalid YAML: {exc}") from exc
        if not isinstance(data, list):
            raise KBFileError(path, 1, "expected a list of cases")
        raw = [(None, item) for item in data]
    cases = []
    for number, (line, item) in enumerate(raw, 1):
        try:
            cases.append(Case.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "case"
            raise KBFileError(path, line, f"case {number}: {where}: {first['msg']}") from exc
    return cases


def run_cases(matcher: Matcher, cases: Sequence[Case], thresholds: Thresholds) -> list[Outcome]:
    outcomes = []
    for case in cases:
        match = matcher.match(case.text, case.lang)
        outcomes.append(Outcome(case, match, decide(match, thresholds)))
    return outcomes


def summary(outcomes: Sequence[Outcome]) -> dict[str, float | int | None]:
    """accuracy (top-1, no threshold), coverage@p95, hand-off rate on null cases, pass rate."""
    in_scope = [o for o in outcomes if o.case.expected is not None]
    out_of_scope = [o for o in outcomes if o.case.expected is None]

    def top(o: Outcome) -> str | None:
        return o.match.candidates[0].article_id if o.match.candidates else None

    def confidence(o: Outcome) -> float:
        return o.match.candidates[0].confidence if o.match.candidates else 0.0

    ranked = sorted(outcomes, key=confidence, reverse=True)
    hits = np.cumsum([o.case.expected is not None and top(o) == o.case.expected for o in ranked])
    precision = hits / np.arange(1, len(ranked) + 1) if ranked else np.zeros(0)
    good = hits[precision >= 0.95] if ranked else np.zeros(0)
    return {
        "cases": len(outcomes),
        "accuracy": round(sum(top(o) == o.case.expected for o in in_scope) / len(in_scope), 4)
        if in_scope else None,
        "coverage@p95": round(float(good.max()) / len(in_scope), 4)
        if in_scope and good.size else 0.0 if in_scope else None,
        "handoff_rate_out_of_scope": round(
            sum(o.decision.kind == "handoff" for o in out_of_scope) / len(out_of_scope), 4)
        if out_of_scope else None,
        "passed": sum(o.passed for o in outcomes),
        "pass_rate": round(sum(o.passed for o in outcomes) / len(outcomes), 4)
        if outcomes else None,
    }
