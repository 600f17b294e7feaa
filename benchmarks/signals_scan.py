"""Milliseconds per message for the phrase signals, by message length, before and after.

Every customer message goes through the five detectors of knowledge_base/signals.py (a
request for a person, negative feedback, a request for news, frustration, urgency). Before
issue 21 each detector scanned the message phrase by phrase and window by window, so the
cost grew with the words times the phrases; now one indexed scan serves all five. The
baseline, measured in the same run, is that earlier scan (benchmarks/signals_before.py)
over the same phrase lists. Prints one JSON object:

    .venv/bin/python benchmarks/signals_scan.py [--sizes 6,50,300,2000] [--repeat 7]

Two kinds of text: `prose`, a customer's e-mail about a broken battery (the usual case), and
`dense`, words that all belong to the phrases ("to", "a", "my", "help", "agent"…: the worst
case for a scan that starts from exact words). Each size reports the best and the median of
`--repeat` timings, and whether both scans gave the same five answers; past
`MAX_SIGNAL_WORDS` the new scan reads only that many words, so answers may differ there.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import signals_before as before  # noqa: E402
from knowledge_base import signals as after  # noqa: E402

PROSE = (
    "Hello, I bought the city bike from your shop in Ghent last March and the battery is not "
    "charging any more. I tried the other charger that my neighbour has and it did not work "
    "either, so I think it is the battery itself. The display shows an error code and the "
    "lights blink twice when I press the button. Could you tell me what the status of my "
    "warranty is and whether I can bring it to the shop on Saturday? I use the bike every day "
    "to go to work, so it is quite important for me to have it fixed soon. Thanks in advance "
    "for your help, and sorry for the long message."
).split()


def _dense_words() -> list[str]:
    phrases = (after._HUMAN_PHRASES + after._NEGATIVE_PHRASES + after._STATUS_PHRASES
               + after._ANGER_PHRASES + after._URGENT_PHRASES)
    return sorted({word for phrase in phrases for word in phrase.split()})


def text_of(kind: str, size: int) -> str:
    """`size` words of the `kind` of text, the same on every run."""
    if kind == "prose":
        return " ".join(PROSE[i % len(PROSE)] for i in range(size))
    pick = random.Random(size)
    vocabulary = _dense_words()
    return " ".join(pick.choice(vocabulary) for _ in range(size))


def answers(module: Any, text: str) -> tuple[object, ...]:
    return (module.wants_human(text), module.negative_feedback(text),
            module.asks_for_status(text), module.frustration(text), module.urgency(text))


def _timed(call: Callable[[], object], repeat: int, budget_s: float) -> dict[str, float]:
    """Best and median ms of `repeat` rounds; each round runs `call` for about `budget_s`."""
    started = time.perf_counter()
    call()
    once = max(time.perf_counter() - started, 1e-6)
    number = max(1, int(budget_s / once))
    rounds = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            call()
        rounds.append((time.perf_counter() - started) / number * 1000)
    return {"best_ms": round(min(rounds), 3), "median_ms": round(statistics.median(rounds), 3)}


def measure(sizes: list[int], repeat: int, budget_s: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for kind in ("prose", "dense"):
        rows = []
        for size in sizes:
            text = text_of(kind, size)

            def new_scan(text: str = text) -> object:
                after._read.cache_clear()  # one message, as the pipeline sees it
                return answers(after, text)

            old = _timed(lambda text=text: answers(before, text), repeat, budget_s)
            new = _timed(new_scan, repeat, budget_s)
            rows.append({
                "words": size, "words_read": len(after.words(text)),
                "before": old, "after": new,
                "speedup_best": round(old["best_ms"] / max(new["best_ms"], 1e-6), 1),
                "same_answers": answers(before, text) == new_scan(),
            })
        results[kind] = rows
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="6,50,300,2000",
                        help="message lengths in words, comma-separated")
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds per size")
    parser.add_argument("--budget", type=float, default=0.2,
                        help="seconds per timed round (rounds repeat the message)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    report = {
        "benchmark": "signals_scan",
        "max_signal_words": after.MAX_SIGNAL_WORDS,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "results": measure(sizes, args.repeat, args.budget),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
