"""The admin CLI: `kb lint`, `kb ask`, `kb test`, in-process and as `python -m knowledge_base`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_KB

from knowledge_base.cli import main

ROOT = Path(__file__).resolve().parents[2]
CASES = """\
- {text: "how long does delivry take", lang: en, expected: delivery-time}
- {text: "j'ai oublié mon mot de passe", expected: password-reset}
- {text: "Wie ist das Wetter morgen?", lang: de, expected: null}
- {text: "is the shop open on sunday", expected: warranty}
"""


def test_lint_clean_kb_exits_zero_and_reports_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(FIXTURE_KB)]) == 0
    out = capsys.readouterr().out
    assert "warning:" in out and "6 articles, 0 errors, " in out
    assert main(["lint", str(FIXTURE_KB), "--strict"]) == 1


def test_lint_errors_exit_one_with_json(kb_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (kb_copy / "bad.yaml").write_text("id: bad\ncategory: nope\ntranslations: {}\n")
    assert main(["lint", str(kb_copy), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["articles"] == 6
    errors = [i for i in report["issues"] if i["severity"] == "error"]
    assert errors[0]["path"].endswith("bad.yaml") and "line 2" in errors[0]["message"]


COUNTER_EXAMPLES = """\
id: other-accounts
category: assistance
handoff: true
translations:
  en:
    title: A password of another service
    questions:
      - I forgot my streaming service password
      - I forgot my airline password
      - I forgot my newspaper password
      - I forgot my gmail password
    answer: ""
"""


def _background_hits(report: dict[str, Any], article_id: str) -> int:
    """How many background questions lint says reach the article (0 when not reported)."""
    for issue in report["issues"]:
        found = re.search(r"(\d+) background questions", issue["message"])
        if issue["article_id"] == article_id and found:
            return int(found.group(1))
    return 0


def _listed(report: dict[str, Any], article_id: str) -> list[str]:
    return next((i["questions"] for i in report["issues"]
                 if i["article_id"] == article_id and "questions" in i), [])


def test_lint_names_out_of_scope_questions_an_article_answers_until_countered(
        kb_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The fixture's password article answers "I forgot my <other service> password": lint
    # shows the admin such questions of the shipped background set, per article...
    assert main(["lint", str(kb_copy), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    before = _background_hits(report, "password-reset")
    message = next(i["message"] for i in report["issues"]
                   if i["article_id"] == "password-reset" and "background" in i["message"])
    assert before >= 5 and "password" in message.split("e.g.")[1]
    # the JSON lists them, for the admin to copy into counter-examples
    assert "I forgot my streaming service password" in _listed(report, "password-reset")
    # ...and once the admin adds them as counter-examples (a hand-off article), fewer reach
    # it, and the counter-example article itself is not reported.
    (kb_copy / "other-accounts.yaml").write_text(COUNTER_EXAMPLES, encoding="utf-8")
    assert main(["lint", str(kb_copy), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert _background_hits(report, "password-reset") < before
    assert "I forgot my streaming service password" not in _listed(report, "password-reset")
    assert _background_hits(report, "other-accounts") == 0


def test_missing_directory_and_bad_usage_exit_two(tmp_path: Path) -> None:
    assert main(["lint", str(tmp_path / "missing")]) == 2
    assert main(["frobnicate"]) == 2
    assert main([]) == 2


def test_ask_prints_decision_and_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", str(FIXTURE_KB), "wanneer komt mijn fiets aan?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("answer: delivery-time") and "language nl" in out
    assert main(["ask", str(FIXTURE_KB), "and on sunday?", "--lang", "en",
                 "--previous", "opening-hours", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["decision"]["kind"] == "answer"
    assert report["decision"]["article_id"] == "opening-hours"
    assert report["candidates"][0]["matched_question"]


def test_test_command_scores_cases_and_lists_failures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASES)
    assert main(["test", str(FIXTURE_KB), str(cases), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["cases"] == 4 and report["passed"] == 3
    assert report["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert report["handoff_rate_out_of_scope"] == 1.0
    [failure] = report["failures"]
    assert failure["expected"] == "warranty" and failure["got"] == "opening-hours"
    assert main(["test", str(FIXTURE_KB), str(cases), "--min-pass-rate", "0.75"]) == 0
    assert "FAIL 'is the shop open on sunday'" in capsys.readouterr().out


def test_test_command_reads_jsonl_and_reports_bad_lines(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"text": "I forgot my password", "expected": "password-reset"}\n\n'
                     '{"text": "x"}\n')
    assert main(["test", str(FIXTURE_KB), str(cases)]) == 2
    cases.write_text('{"text": "I forgot my password", "expected": "password-reset"}\n')
    assert main(["test", str(FIXTURE_KB), str(cases)]) == 0


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "knowledge_base", "ask", str(FIXTURE_KB), "I forgot my password",
         "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["decision"]["article_id"] == "password-reset"
    done = subprocess.run([sys.executable, "-m", "knowledge_base", "lint", "/nonexistent"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 2 and "not a directory" in done.stderr
