"""Language detection, accurate against light (`[languages] detection`), on three sets of
short customer-like messages, where the two modes differ (lingua reads trigrams only from
120 characters on in either mode):

- `kb`: every title and example question of the demo KB and the four company KBs of
  benchmarks/data/kb (EN/FR/NL/DE, labelled by the translation they are written in);
- `heldout`: benchmarks/data/language-heldout.yaml, short customer messages written for the
  project (Belgian variants, typos, product names), never used to tune the detector;
- `topics`: benchmarks/data/language-dev.yaml, 200 more short customer messages on other
  topics (banking, travel, energy, insurance), written after the held-out set as a tuning
  set (the prior's constants were not changed on it);
- `clinc150`: the English test questions of CLINC150 (in-scope and out-of-scope, read from
  ../shared/datasets/clinc150, never copied), a check of false switches away from English.

    PYTHONPATH=. .venv/bin/python benchmarks/language_detection.py

Reported per mode (`accurate`, `light`, and both without the lexical prior of
knowledge_base/data/language_words.yaml: `*_without_prior`) and set: accuracy through
`detect_language` (greetings table, lexical prior and default rules included) with the
default English and with the default Dutch, ms per question, and the RSS the models add
(each mode in its own process). Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
KBS = (ROOT / "config" / "kb", ROOT / "benchmarks" / "data" / "kb")
HELDOUT = ROOT / "benchmarks" / "data" / "language-heldout.yaml"
TOPICS = ROOT / "benchmarks" / "data" / "language-dev.yaml"
CLINC150 = Path(os.environ.get("CLINC150", ROOT.parent / "shared" / "datasets" / "clinc150"))
LANGS = ("en", "fr", "nl", "de")


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


def heldout(path: Path = HELDOUT) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(str(text), lang) for lang in LANGS for text in data[lang]]


def clinc150() -> list[tuple[str, str]]:
    path = CLINC150 / "data_full.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(text, "en") for split in ("test", "oos_test") for text, _ in data[split]]


def measure(texts: list[tuple[str, str]], default: str) -> tuple[dict[str, Any], list[str]]:
    from knowledge_base import language

    started = time.perf_counter()
    guesses = [language.detect_language(text, default=default) for text, _ in texts]
    elapsed = time.perf_counter() - started
    pairs = list(zip(guesses, texts, strict=True))
    right = sum(guess == truth for guess, (_, truth) in pairs)
    return {"accuracy": round(right / len(texts), 4), "right": right,
            "ms_per_question": round(elapsed * 1000 / len(texts), 3),
            "wrong_by_language": {lang: sum(1 for g, (_, t) in pairs if t == lang and g != t)
                                  for lang in LANGS if any(t == lang for _, t in texts)},
            "read_as": {lang: sum(1 for g, _ in pairs if g == lang) for lang in LANGS}
            if {t for _, t in texts} == {"en"} else None}, guesses


def run(accurate: bool, sets: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    from benchmarks.memory import rss_mb
    from knowledge_base import language

    before = rss_mb()["rss_mb"]
    language.configure(LANGS, accurate=accurate)
    language.load_models()
    report: dict[str, Any] = {"models_rss_mb": round(rss_mb()["rss_mb"] - before, 1)}
    for name, texts in sets.items():
        if not texts:
            continue
        entry: dict[str, Any] = {"questions": len(texts)}
        for default in ("en", "nl"):
            entry[f"default_{default}"], entry[f"guesses_{default}"] = measure(texts, default)
            if name == "clinc150":
                figures = entry[f"default_{default}"]
                figures["not_read_as_english"] = round(1 - figures["accuracy"], 4)
                del figures["read_as"]
        report[name] = entry
    return report


def sets() -> dict[str, list[tuple[str, str]]]:
    return {"kb": questions(), "heldout": heldout(), "topics": heldout(TOPICS),
            "clinc150": clinc150()}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("--accurate", "--light"):
        from knowledge_base import language

        language.LEXICAL = "--no-prior" not in sys.argv
        print(json.dumps(run(sys.argv[1] == "--accurate", sets())))
        return 0
    modes = {}
    for mode in ("accurate", "light"):
        for prior in (True, False):
            out = subprocess.run(
                [sys.executable, __file__, f"--{mode}", *([] if prior else ["--no-prior"])],
                cwd=ROOT, check=True, capture_output=True, text=True)
            modes[mode if prior else f"{mode}_without_prior"] = json.loads(out.stdout)
    report: dict[str, Any] = {}
    for name in sets():
        if name not in modes["light"]:
            continue
        for default in ("en", "nl"):
            a, b = (modes[m][name].pop(f"guesses_{default}") for m in ("accurate", "light"))
            for m in ("accurate_without_prior", "light_without_prior"):
                modes[m][name].pop(f"guesses_{default}")
            report[f"disagree_{name}_default_{default}"] = sum(
                x != y for x, y in zip(a, b, strict=True))
    print(json.dumps({**modes, **report}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
