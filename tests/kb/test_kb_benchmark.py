"""The customers' figures of the multilingual company KBs must not regress.

Runs benchmarks/kb_customers.py (a held-out fictional company, two tuning ones and the demo
KB's development queries, at the default thresholds) and compares with the figures
documented in benchmarks/results/kb_customers.json (docs/knowledge-base.md): a drop of more
than two points in right answers or hand-offs of out-of-scope questions, or two more points
of wrong answers, on any KB, fails. The held-out KB must also keep meeting the issue's
targets at the default settings. After an intended change, rerun
`python benchmarks/kb_customers.py` (and with `--open-set`), put the two results under
"default" and "open_set" in benchmarks/results/kb_customers.json, and update the docs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import kb_customers  # noqa: E402
import pytest  # noqa: E402

from knowledge_base.index import MatcherSettings  # noqa: E402

DOCUMENTED = ROOT / "benchmarks" / "results" / "kb_customers.json"
#: Points (of 100) a figure may move the wrong way.
TOLERANCE = 0.02
HIGHER_IS_BETTER = ("right", "oos_handoff", "oos_near_handoff")
#: Issue 13's targets, on a KB never tuned on, at the default settings and thresholds.
TARGETS = {"right": 0.80, "oos_handoff": 0.90, "oos_near_handoff": 0.85}
MAX_WRONG = 0.02


@pytest.fixture(scope="module")
def default_run() -> dict[str, Any]:
    return kb_customers.run()


@pytest.mark.parametrize("open_set", [False, True], ids=["default", "open-set"])
def test_customer_kbs_do_not_regress(open_set: bool, default_run: dict[str, Any]) -> None:
    documented = json.loads(DOCUMENTED.read_text(encoding="utf-8"))["open_set" if open_set
                                                                     else "default"]
    measured = (kb_customers.run(settings=MatcherSettings(open_set=True)) if open_set
                else default_run)
    regressions = []
    for name in kb_customers.ALL:
        before, now = documented[name]["all"], measured[name]["all"]
        for key in HIGHER_IS_BETTER:
            if now[key] < before[key] - TOLERANCE:
                regressions.append(f"{name} {key}: {before[key]} -> {now[key]}")
        if now["wrong"] > before["wrong"] + TOLERANCE:
            regressions.append(f"{name} wrong: {before['wrong']} -> {now['wrong']}")
    assert not regressions, regressions


def test_the_held_out_kb_meets_the_targets(default_run: dict[str, Any]) -> None:
    held_out = default_run["heldout_mean"]
    missed = [f"{key} {held_out[key]} < {floor}" for key, floor in TARGETS.items()
              if held_out[key] < floor]
    if held_out["wrong"] > MAX_WRONG:
        missed.append(f"wrong {held_out['wrong']} > {MAX_WRONG}")
    assert not missed, missed


def test_the_multilingual_extra_stays_honest_and_does_not_regress() -> None:
    # The held-out KB, whole and cut to its English articles (questions in all four
    # languages), with the [multilingual] extra: documented in
    # benchmarks/results/kb_customers_multilingual.json (docs/knowledge-base.md).
    documented = json.loads((ROOT / "benchmarks" / "results" /
                             "kb_customers_multilingual.json").read_text(encoding="utf-8"))
    measured = kb_customers.run(kb_customers.HELD_OUT, MatcherSettings(multilingual=True),
                                english=True)
    problems = []
    for name in (*kb_customers.HELD_OUT, *(f"{n}/en-only" for n in kb_customers.HELD_OUT)):
        before = documented["multilingual_english_only"][name]["all"]
        now = measured[name]["all"]
        for key in HIGHER_IS_BETTER:
            if now[key] < before[key] - TOLERANCE:
                problems.append(f"{name} {key}: {before[key]} -> {now[key]}")
        if now["wrong"] > MAX_WRONG or now["oos_handoff"] < TARGETS["oos_handoff"]:
            problems.append(f"{name}: wrong {now['wrong']}, handed off {now['oos_handoff']}")
    assert not problems, problems
