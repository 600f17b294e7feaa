"""Language detection, accurate against light (`[languages] detection`), on every title and
example question of the demo KB and the four company KBs of benchmarks/data/kb (EN/FR/NL/DE,
labelled by the translation they are written in): short customer-like questions, where the
two modes differ (lingua reads trigrams only from 120 characters on in either mode).

    PYTHONPATH=. .venv/bin/python benchmarks/language_detection.py

Reported per mode: accuracy through `detect_language` (greetings table and default rules
included) with the default English and with the default Dutch, ms per question, and the
RSS the models add (each mode in its own process). Prints one JSON object.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
KBS = (ROOT / "config" / "kb", ROOT / "benchmarks" / "data" / "kb")


def questions() -> list[tuple[str, str]]:
    """(text, language) of every title and example question."""
    found = []
    for folder in KBS:
        for path in sorted(folder.glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            articles = data.get("articles", [data]) if isinstance(data, dict) else []
            for article in articles:
                for lang, translation in (article.get("translations") or {}).items():
                    for text in [translation.get("title"), *translation.get("questions", [])]:
                        if text:
                            found.append((str(text), lang))
    return found


def run(accurate: bool) -> dict[str, Any]:
    from benchmarks.memory import rss_mb
    from knowledge_base import language

    texts = questions()
    before = rss_mb()["rss_mb"]
    language.configure(("en", "fr", "nl", "de"), accurate=accurate)
    language.load_models()
    report: dict[str, Any] = {"models_rss_mb": round(rss_mb()["rss_mb"] - before, 1),
                              "questions": len(texts)}
    for default in ("en", "nl"):
        started = time.perf_counter()
        guesses = [language.detect_language(text, default=default) for text, _ in texts]
        elapsed = time.perf_counter() - started
        right = sum(guess == truth for guess, (_, truth) in zip(guesses, texts, strict=True))
        report[f"default_{default}"] = {
            "accuracy": round(right / len(texts), 4), "right": right,
            "ms_per_question": round(elapsed * 1000 / len(texts), 3),
            "wrong_by_language": {lang: sum(1 for g, (_, t) in zip(guesses, texts, strict=True)
                                            if t == lang and g != t)
                                  for lang in ("en", "fr", "nl", "de")}}
        report[f"guesses_{default}"] = guesses
    return report


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("--accurate", "--light"):
        print(json.dumps(run(sys.argv[1] == "--accurate")))
        return 0
    modes = {}
    for mode in ("accurate", "light"):
        out = subprocess.run([sys.executable, __file__, f"--{mode}"], cwd=ROOT, check=True,
                             capture_output=True, text=True)
        modes[mode] = json.loads(out.stdout)
    report: dict[str, Any] = {}
    for default in ("en", "nl"):
        a, b = (modes[m].pop(f"guesses_{default}") for m in ("accurate", "light"))
        report[f"disagree_default_{default}"] = sum(x != y for x, y in zip(a, b, strict=True))
    print(json.dumps({**modes, **report}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
