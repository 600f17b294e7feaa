"""Knowledge-base matcher quality on public intent datasets (CLINC150, Banking77).

Follows the protocol in shared/datasets/README.md: one article per intent built from the
train split (10 examples per intent drawn with seed 0, and every example), queries from the
test split, CLINC150's 1,000 out-of-scope test queries included. The production code path
is used: `Article` objects -> `Matcher.build` -> `Matcher.match` -> `decide`.

    python benchmarks/kb_quality.py [--datasets DIR] [--quick] [--semantic] [--multilingual]
                                    [--svg docs/kb-benchmark.svg]

Prints one JSON object; run it on an idle machine (latency is measured per query, one core).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import kb_customers
from benchmarks.kb_chart import Curve, write_chart
from knowledge_base.decide import Decision, decide
from knowledge_base.index import Matcher, MatcherSettings
from knowledge_base.model import Article, Translation

DEFAULT_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SHOTS = 10
SEED = 0

Queries = list[tuple[str, str | None]]  # (text, intent or None for out-of-scope)
Run = tuple[dict[str, object], list[tuple[float, float]]]  # (figures, precision curve)


@dataclass(frozen=True)
class Dataset:
    name: str
    train: dict[str, list[str]]
    test: Queries


def load_clinc(root: Path) -> Dataset:
    data = json.loads((root / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    train: dict[str, list[str]] = defaultdict(list)
    for text, intent in data["train"]:
        train[intent].append(text)
    test: Queries = [(text, intent) for text, intent in data["test"]]
    test += [(text, None) for text, _ in data["oos_test"]]
    return Dataset("clinc150", dict(train), test)


def load_banking(root: Path) -> Dataset:
    train: dict[str, list[str]] = defaultdict(list)
    with (root / "banking77" / "train.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            train[row["category"]].append(row["text"])
    with (root / "banking77" / "test.csv").open(encoding="utf-8", newline="") as f:
        test: Queries = [(row["text"], row["category"]) for row in csv.DictReader(f)]
    return Dataset("banking77", dict(train), test)


def few_shot(train: dict[str, list[str]], shots: int, seed: int) -> dict[str, list[str]]:
    """`shots` examples per intent, intents in sorted order, one seeded generator."""
    rng = random.Random(seed)
    return {intent: rng.sample(texts, min(shots, len(texts)))
            for intent, texts in sorted(train.items())}


def to_articles(train: dict[str, list[str]]) -> list[Article]:
    return [Article(id=intent.replace("_", "-"), category="information", translations={
        "en": Translation(title=texts[0], questions=tuple(texts), answer=f"About {intent}.")})
        for intent, texts in train.items()]


def scores(predictions: Sequence[str | None], confidences: Sequence[float],
           truth: Sequence[str | None]) -> dict[str, float | None]:
    """Accuracy, coverage at 90/95% precision, and the thresholds that achieve them."""
    in_scope = np.array([t is not None for t in truth])
    correct = np.array([p is not None and p == t for p, t in zip(predictions, truth, strict=True)])
    order = np.argsort(-np.asarray(confidences), kind="stable")
    hits = np.cumsum(correct[order])
    precision = hits / np.arange(1, len(order) + 1)
    result: dict[str, float | None] = {"accuracy": round(float(correct[in_scope].mean()), 4)}
    for target in (90, 95):
        ok = np.flatnonzero(precision >= target / 100)
        last = int(ok[np.argmax(hits[ok])]) if ok.size else -1
        result[f"coverage@p{target}"] = (
            round(float(hits[last] / in_scope.sum()), 4) if last >= 0 else 0.0)
        result[f"threshold@p{target}"] = (
            round(float(np.asarray(confidences)[order][last]), 4) if last >= 0 else None)
        if (~in_scope).any():
            answered = np.zeros(len(order), dtype=bool)
            answered[order[: last + 1]] = True
            result[f"oos_handoff@p{target}"] = round(float(1 - answered[~in_scope].mean()), 4)
    return result


def curve(confidences: Sequence[float], predictions: Sequence[str | None],
          truth: Sequence[str | None], points: int = 60) -> list[tuple[float, float]]:
    """(coverage, precision) pairs, from the most to the least confident answers."""
    correct = np.array([p is not None and p == t for p, t in zip(predictions, truth, strict=True)])
    order = np.argsort(-np.asarray(confidences), kind="stable")
    hits = np.cumsum(correct[order])
    n_in = sum(t is not None for t in truth)
    steps = np.unique(np.linspace(20, len(order), points).astype(int)) - 1
    return [(float(hits[i] / n_in), float(hits[i] / (i + 1))) for i in steps]


def run_matcher(articles: list[Article], queries: Queries,
                settings: MatcherSettings) -> Run:
    start = time.perf_counter()
    matcher = Matcher.build(articles, settings)
    build = time.perf_counter() - start
    predictions: list[str | None] = []
    confidences: list[float] = []
    latencies: list[float] = []
    decisions: list[Decision] = []
    matcher.match("warm up", "en")
    for text, _ in queries:
        start = time.perf_counter()
        match = matcher.match(text, "en")
        latencies.append((time.perf_counter() - start) * 1000)
        best = match.best
        predictions.append(best.article_id if best else None)
        confidences.append(best.confidence if best else 0.0)
        decisions.append(decide(match))
    report, points = _report(queries, predictions, confidences, latencies, build)
    report["at_default_thresholds"] = at_thresholds(queries, decisions)
    return report, points


def at_thresholds(queries: Queries, decisions: list[Decision]) -> dict[str, float]:
    """What customers get at the default thresholds: in-scope answered (or offered) right,
    answered wrong, and out-of-scope queries handed off."""
    truth = [None if intent is None else intent.replace("_", "-") for _, intent in queries]
    right = wrong = handed = 0
    for expected, d in zip(truth, decisions, strict=True):
        if expected is None:
            handed += d.kind == "handoff"
        elif (d.kind == "answer" and d.article_id == expected) or expected in d.choices:
            right += 1
        elif d.kind != "handoff":
            wrong += 1
    n_in = sum(t is not None for t in truth)
    result = {"right": round(right / n_in, 4), "wrong": round(wrong / n_in, 4)}
    if n_in < len(truth):
        result["oos_handoff"] = round(handed / (len(truth) - n_in), 4)
    return result


def run_baseline(articles: list[Article], queries: Queries) -> Run:
    """rapidfuzz token_sort_ratio against the single best example (the naive approach)."""
    start = time.perf_counter()
    examples = [(q, a.id) for a in articles for q in a.translations["en"].questions]
    choices = [q.lower() for q, _ in examples]
    build = time.perf_counter() - start
    predictions: list[str | None] = []
    confidences: list[float] = []
    latencies: list[float] = []
    for text, _ in queries:
        start = time.perf_counter()
        found = process.extractOne(text.lower(), choices, scorer=fuzz.token_sort_ratio)
        latencies.append((time.perf_counter() - start) * 1000)
        predictions.append(examples[found[2]][1] if found else None)
        confidences.append(found[1] / 100 if found else 0.0)
    return _report(queries, predictions, confidences, latencies, build)


def _report(queries: Queries, predictions: list[str | None], confidences: list[float],
            latencies: list[float], build: float) -> Run:
    truth = [None if intent is None else intent.replace("_", "-") for _, intent in queries]
    report: dict[str, object] = dict(scores(predictions, confidences, truth))
    report["latency_p50_ms"] = round(float(np.percentile(latencies, 50)), 3)
    report["latency_p99_ms"] = round(float(np.percentile(latencies, 99)), 3)
    report["build_s"] = round(build, 3)
    return report, curve(confidences, predictions, truth)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--quick", action="store_true", help="10-shot KBs only")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--semantic", action="store_true",
                        help="add sentence embeddings (needs helpdesk-gateway[semantic])")
    parser.add_argument("--multilingual", action="store_true",
                        help="add EN/FR/NL/DE sentence embeddings "
                             "(needs helpdesk-gateway[multilingual])")
    parser.add_argument("--svg", type=Path, help="write the coverage/precision chart here")
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    parser.add_argument("--no-customers", action="store_true",
                        help="skip the multilingual company KBs (benchmarks/kb_customers.py)")
    args = parser.parse_args(argv)
    loaders: list[Callable[[Path], Dataset]] = [load_clinc, load_banking]
    results: dict[str, object] = {"protocol": "shared/datasets/README.md", "shots": SHOTS,
                                  "seed": SEED}
    curves: list[Curve] = []
    settings = MatcherSettings(semantic=args.semantic, multilingual=args.multilingual)
    results["matcher_settings"] = dataclasses.asdict(settings)
    for load in loaders:
        dataset = load(args.datasets)
        sizes = {"10-shot": few_shot(dataset.train, SHOTS, SEED)}
        if not args.quick:
            sizes["full"] = dict(sorted(dataset.train.items()))
        for size, train in sizes.items():
            articles = to_articles(train)
            entry: dict[str, object] = {"articles": len(articles),
                                        "examples": sum(map(len, train.values()))}
            entry["matcher"], points = run_matcher(articles, dataset.test, settings)
            curves.append(Curve(f"{dataset.name} {size}", points))
            if not args.no_baseline:
                entry["baseline_token_sort_ratio"], _ = run_baseline(articles, dataset.test)
            results[f"{dataset.name}/{size}"] = entry
            print(f"{dataset.name}/{size}: {entry['matcher']}", file=sys.stderr, flush=True)
    if not args.no_customers:
        # per language, and with the KBs cut to English articles (`NAME/en-only`)
        results["customer_kbs"] = kb_customers.run(settings=settings, english=True)
    text = json.dumps(results, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    if args.svg:
        write_chart(args.svg, curves)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
