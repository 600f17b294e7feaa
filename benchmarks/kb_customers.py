"""What customers see, at the default thresholds: answered right, wrong, clarified, handed off.

Runs the multilingual KBs in benchmarks/data/kb (a held-out fictional company, two tuning
ones and the demo KB's development queries) through the production path (`Matcher.build` ->
`Matcher.match` -> `decide`) and reports, per KB and per language:

- `right`: in-scope queries answered with the right article, or a clarification offering it;
- `answered_right` / `clarified_right`: the two parts of it;
- `wrong`: in-scope queries answered with another article (a clarification without the
  right article counts here too: the customer is shown only wrong choices);
- `oos_handoff`: out-of-scope queries handed off; `oos_near_handoff` for those sharing words
  with an article (`near: true`), the hard ones;
- `clarify`: in-scope queries answered with a clarification (right or not);
- latency p50 / p99 per query, for all and per language: wall clock, and CPU time of the
  matching thread (`cpu_p50_ms` / `cpu_p99_ms`, what the work costs whatever the load).

With `--english-only` each KB is also run with its articles cut to their English
translation (`NAME/en-only`), questions in all four languages: "an admin writes an article
in one language and it answers the other three".

    python benchmarks/kb_customers.py [--kb NAME ...] [--open-set] [--no-scope-check]
                                      [--multilingual] [--english-only]

Prints one JSON object, with `heldout_mean` (the held-out KB, never tuned on) and
`tune_mean` (the KBs tuned on) apart. See benchmarks/data/kb/README.md for the roles.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge_base.decide import DEFAULT_THRESHOLDS, Thresholds, decide  # noqa: E402
from knowledge_base.files import load_directory  # noqa: E402
from knowledge_base.index import Matcher, MatcherSettings  # noqa: E402
from knowledge_base.message import match_message  # noqa: E402
from knowledge_base.model import Article, Translation  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "kb"
HELD_OUT = ("heldout-telecom",)
TUNE = ("tune-energy", "tune-pharmacy")
DEV = ("dev-velora",)
#: Dutch / Flemish development queries on the tuning KBs' articles (the Dutch gap of issue
#: 13): run and gated with the rest, kept out of the means so those stay comparable.
DUTCH_DEV = ("dev-dutch-energy", "dev-dutch-pharmacy")
#: Dutch and German queries whose verb stands apart from its particle ("ik haal mijn
#: medicijnen morgen op") on the tuning KBs' articles: the development set of the separable
#: verbs (`Featurizer.join_particles`); outside the means, like DUTCH_DEV.
VERBS_DEV = ("dev-verbs-energy", "dev-verbs-pharmacy", "dev-verbs-velora")
#: A second held-out set (Dutch, some French and German) on the held-out KB's articles,
#: written before the Dutch changes and never tuned on; outside the means, like DUTCH_DEV.
DUTCH_HELD_OUT = ("heldout2-telecom-nl",)
#: A third held-out KB of another sector (a bilingual Brussels municipality's citizen desk,
#: articles in FR/NL, EN and DE for some), written before the per-language work and never
#: tuned on: 212 in-scope and 88 out-of-scope queries, 52-57 / 22 a language.
MUNICIPAL_HELD_OUT = ("heldout3-municipal",)


@dataclass(frozen=True)
class Query:
    text: str
    lang: str | None
    expected: str | None
    near: bool = False


def load(name: str) -> tuple[list[Article], list[Query]]:
    """A benchmark KB file: its articles (inline, the folder it names, or another file's:
    `articles_from`, for extra query sets such as the Dutch development ones) and queries."""
    data = yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    queries = [Query(q["text"], q.get("lang"), q.get("expected"), bool(q.get("near")))
               for q in data["queries"]]
    if "articles_from" in data:
        return load(data["articles_from"])[0], queries
    if "kb" in data:
        articles = list(load_directory(ROOT / data["kb"]).articles.values())
        cases = yaml.safe_load((ROOT / "config" / "kb-tests.yaml").read_text(encoding="utf-8"))
        queries += [Query(c["text"], c.get("lang"), c.get("expected")) for c in cases]
        return articles, queries
    articles = [Article(
        id=a["id"], category=a.get("category", "information"), handoff=a.get("handoff", False),
        translations={lang: Translation(t["title"], tuple(t["questions"]), f"About {a['id']}.")
                      for lang, t in a["translations"].items()})
        for a in data["articles"]]
    return articles, queries


def evaluate(matcher: Matcher, queries: list[Query],
             thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict[str, Any]:
    """Figures for all queries and per language (see the module docstring)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latencies: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    matcher.match("warm up", "en")
    for query in queries:
        start, start_cpu = time.perf_counter(), time.thread_time()
        match = match_message(matcher, query.text, query.lang).match
        decision = decide(match, thresholds)
        elapsed = (time.perf_counter() - start) * 1000
        worked = (time.thread_time() - start_cpu) * 1000
        for key in ("all", match.language if query.lang is None else query.lang):
            _count(counts[key], query, decision.kind, decision.article_id, decision.choices)
            latencies[key].append(elapsed)
            cpu[key].append(worked)
    result: dict[str, Any] = {key: {**_rates(c), **_latency(latencies[key], cpu[key])}
                              for key, c in sorted(counts.items())}
    result.update(_latency(latencies["all"], cpu["all"]))
    return result


def _latency(wall: list[float], cpu: list[float]) -> dict[str, float]:
    """Wall-clock percentiles, and the CPU time of the matching thread: on a shared machine
    the wall clock also counts the time other processes held the core."""
    return {"latency_p50_ms": round(float(np.percentile(wall, 50)), 3),
            "latency_p99_ms": round(float(np.percentile(wall, 99)), 3),
            "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 3),
            "cpu_p99_ms": round(float(np.percentile(cpu, 99)), 3)}


def _count(c: dict[str, int], query: Query, kind: str, article: str | None,
           choices: tuple[str, ...]) -> None:
    if query.expected is None:
        c["oos"] += 1
        c["oos_handoff"] += kind == "handoff"
        c["oos_near"] += query.near
        c["oos_near_handoff"] += query.near and kind == "handoff"
        return
    c["in_scope"] += 1
    c["answered_right"] += kind == "answer" and article == query.expected
    c["clarified_right"] += kind == "clarify" and query.expected in choices
    c["wrong"] += ((kind == "answer" and article != query.expected)
                   or (kind == "clarify" and query.expected not in choices))
    c["in_scope_handoff"] += kind == "handoff"
    c["clarify"] += kind == "clarify"


def _rates(c: dict[str, int]) -> dict[str, float | int]:
    def share(part: str, whole: str) -> float | None:
        return round(c[part] / c[whole], 4) if c[whole] else None

    rates: dict[str, Any] = {"in_scope": c["in_scope"], "out_of_scope": c["oos"]}
    if c["in_scope"]:
        rates["right"] = round((c["answered_right"] + c["clarified_right"]) / c["in_scope"], 4)
        for key in ("answered_right", "clarified_right", "clarify", "wrong",
                    "in_scope_handoff"):
            rates[key] = share(key, "in_scope")
    rates["oos_handoff"] = share("oos_handoff", "oos")
    rates["oos_near_handoff"] = share("oos_near_handoff", "oos_near")
    return {k: v for k, v in rates.items() if v is not None}


ALL = (HELD_OUT + TUNE + DEV + DUTCH_DEV + VERBS_DEV + DUTCH_HELD_OUT
       + MUNICIPAL_HELD_OUT)


def english_only(articles: list[Article]) -> list[Article]:
    """The articles as an admin who writes only English would have them."""
    return [dataclasses.replace(a, translations={"en": a.translations["en"]})
            for a in articles if "en" in a.translations]


def run(names: tuple[str, ...] = ALL, settings: MatcherSettings | None = None,
        english: bool = False) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in names:
        articles, queries = load(name)
        variants = [(name, articles)]
        if english:
            variants.append((f"{name}/en-only", english_only(articles)))
        for key, kb in variants:
            start = time.perf_counter()
            matcher = Matcher.build(kb, settings)
            build = time.perf_counter() - start
            results[key] = {"articles": len(kb), **evaluate(matcher, queries),
                            "build_s": round(build, 3)}
    means = [("heldout_mean", HELD_OUT, ""), ("tune_mean", TUNE + DEV, "")]
    if english:
        means += [("heldout_en_only_mean", HELD_OUT, "/en-only"),
                  ("tune_en_only_mean", TUNE + DEV, "/en-only")]
    for key, group, suffix in means:
        kbs = [results[n + suffix]["all"] for n in names if n in group]
        if kbs:
            results[key] = {k: round(float(np.mean([kb[k] for kb in kbs])), 4)
                            for k in ("right", "wrong", "clarify", "oos_handoff",
                                      "oos_near_handoff")}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", action="append", help="one KB file name (default: all)")
    parser.add_argument("--semantic", action="store_true")
    parser.add_argument("--multilingual", action="store_true",
                        help="MatcherSettings(multilingual=True): USE sentence embeddings")
    parser.add_argument("--english-only", action="store_true",
                        help="also run each KB with English articles only (NAME/en-only)")
    parser.add_argument("--open-set", action="store_true",
                        help="MatcherSettings(open_set=True): background classes and evidence")
    parser.add_argument("--no-scope-check", action="store_true",
                        help="MatcherSettings(scope_check=False): the closed-set confidence")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    names = tuple(args.kb) if args.kb else ALL
    settings = MatcherSettings(semantic=args.semantic, multilingual=args.multilingual,
                               open_set=args.open_set, scope_check=not args.no_scope_check)
    text = json.dumps(run(names, settings, args.english_only), indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
