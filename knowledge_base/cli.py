"""`helpdesk-gateway kb ...` (also `python -m knowledge_base ...`): the admin's KB tools.

    kb lint DIR [--json] [--strict] [--open-set] [--integrations A,B | --config FILE]
                                              problems in the KB; exit 1 on errors
    kb ask DIR TEXT [--lang xx] [--previous ID] [--json]
                                              what the bot would do with one message
    kb test DIR CASES [--json] [--min-pass-rate R]
                                              score a case file; exit 1 below the pass rate

Exit codes: 0 fine, 1 problems found (lint errors, failing cases), 2 bad usage or a KB /
case file that cannot be read at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from knowledge_base.action_lint import integration_names
from knowledge_base.cases import Outcome, load_cases, run_cases, summary
from knowledge_base.decide import DEFAULT_THRESHOLDS, Thresholds, decide
from knowledge_base.errors import KBError
from knowledge_base.files import LoadResult, load_directory
from knowledge_base.index import Matcher, MatcherSettings
from knowledge_base.lint import lint


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage and 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.command(args))
    except KBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpdesk-gateway kb",
                                     description="Check and try out a knowledge base.")
    sub = parser.add_subparsers(required=True, metavar="{lint,ask,test}")

    check = sub.add_parser("lint", help="report problems in the KB files")
    check.add_argument("dir", type=Path)
    check.add_argument("--json", action="store_true")
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.add_argument("--open-set", action="store_true",
                       help="also list articles that out-of-scope background questions reach")
    names = check.add_mutually_exclusive_group()
    names.add_argument("--integrations", metavar="A,B",
                       help="the back-office integrations actions may name")
    names.add_argument("--config", type=Path, metavar="FILE",
                       help="take them from a gateway settings file's [integrations]")
    check.set_defaults(command=_lint)

    ask = sub.add_parser("ask", help="show what the bot would do with a message")
    ask.add_argument("dir", type=Path)
    ask.add_argument("text")
    ask.add_argument("--lang", help="en, fr, nl or de (default: detected)")
    ask.add_argument("--previous", metavar="ARTICLE_ID", help="article answered just before")
    ask.add_argument("--json", action="store_true")
    _matcher_options(ask)
    _threshold_options(ask)
    ask.set_defaults(command=_ask)

    test = sub.add_parser("test", help="score the KB on a YAML / JSONL case file")
    test.add_argument("dir", type=Path)
    test.add_argument("cases", type=Path)
    test.add_argument("--json", action="store_true")
    test.add_argument("--min-pass-rate", type=float, default=1.0, metavar="R",
                      help="exit 1 when fewer than this share of cases pass (default 1.0)")
    _threshold_options(test)
    _matcher_options(test)
    test.set_defaults(command=_test)
    return parser


def _threshold_options(parser: argparse.ArgumentParser) -> None:
    defaults = DEFAULT_THRESHOLDS
    parser.add_argument("--answer", type=float, default=defaults.answer,
                        help=f"answer threshold (default {defaults.answer})")
    parser.add_argument("--clarify", type=float, default=defaults.clarify,
                        help=f"clarify threshold (default {defaults.clarify})")


def _matcher_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--semantic", action="store_true",
                        help="add sentence embeddings (needs helpdesk-gateway[semantic])")
    parser.add_argument("--multilingual", action="store_true",
                        help="add EN/FR/NL/DE sentence embeddings "
                             "(needs helpdesk-gateway[multilingual])")
    parser.add_argument("--no-scope-check", action="store_true",
                        help="closed-set confidence: no hand-off for foreign things")


def _matcher(result: LoadResult, args: argparse.Namespace) -> Matcher:
    return Matcher.build(result.articles.values(),
                         MatcherSettings(semantic=args.semantic,
                                         multilingual=args.multilingual,
                                         scope_check=not args.no_scope_check))


def _thresholds(args: argparse.Namespace) -> Thresholds:
    return dataclasses.replace(DEFAULT_THRESHOLDS, answer=args.answer, clarify=args.clarify)


def _load(directory: Path) -> LoadResult:
    if not directory.is_dir():
        raise KBError(f"{directory}: not a directory")
    return load_directory(directory)


def _lint(args: argparse.Namespace) -> int:
    result = _load(args.dir)
    matcher = (Matcher.build(result.articles.values(), MatcherSettings(open_set=True))
               if args.open_set and result.articles else None)
    integrations: set[str] | None = None
    if args.integrations is not None:
        integrations = {name.strip() for name in args.integrations.split(",") if name.strip()}
    elif args.config is not None:
        integrations = integration_names(args.config)
    issues = lint(result, matcher, integrations)
    errors = sum(i.severity == "error" for i in issues)
    if args.json:
        print(json.dumps({"articles": len(result.articles), "issues": [
            {"severity": i.severity, "article_id": i.article_id,
             "path": str(i.path) if i.path else None, "message": i.message,
             **({"questions": list(i.questions)} if i.questions else {})} for i in issues]},
            indent=2))
    else:
        for issue in issues:
            print(issue)
        print(f"{len(result.articles)} articles, {errors} errors, "
              f"{len(issues) - errors} warnings")
    return 1 if errors or (args.strict and issues) else 0


def _ask(args: argparse.Namespace) -> int:
    result = _load(args.dir)
    _print_load_errors(result)
    matcher = _matcher(result, args)
    match = matcher.match(args.text, args.lang, previous_article_id=args.previous)
    decision = decide(match, _thresholds(args))
    if args.json:
        print(json.dumps({"language": match.language, "decision": dataclasses.asdict(decision),
                          "candidates": [dataclasses.asdict(c) for c in match.candidates]},
                         indent=2, ensure_ascii=False))
        return 0
    target = ", ".join(decision.choices) if decision.kind == "clarify" else decision.article_id
    print(f"{decision.kind}: {target or '-'} (confidence {decision.confidence:.2f}, "
          f"language {match.language})")
    for candidate in match.candidates:
        print(f"  {candidate.confidence:6.3f}  {candidate.article_id:<30} "
              f"~ {candidate.matched_question}")
    return 0


def _test(args: argparse.Namespace) -> int:
    result = _load(args.dir)
    _print_load_errors(result)
    cases = load_cases(args.cases)
    matcher = _matcher(result, args)
    outcomes = run_cases(matcher, cases, _thresholds(args))
    report = summary(outcomes)
    failures = [o for o in outcomes if not o.passed]
    if args.json:
        print(json.dumps({**report, "failures": [_failure(o) for o in failures]},
                         indent=2, ensure_ascii=False))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
        for outcome in failures:
            f = _failure(outcome)
            print(f"FAIL {f['text']!r} ({f['language']}): expected {f['expected']}, "
                  f"got {f['decision']} {f['got'] or ''} ({f['confidence']:.2f})")
    rate = report["pass_rate"]
    return 0 if rate is None or rate >= args.min_pass_rate else 1


def _failure(outcome: Outcome) -> dict[str, object]:
    decision = outcome.decision
    return {"text": outcome.case.text, "language": outcome.match.language,
            "expected": outcome.case.expected, "decision": decision.kind,
            "got": ", ".join(decision.choices) if decision.kind == "clarify"
            else decision.article_id, "confidence": decision.confidence}


def _print_load_errors(result: LoadResult) -> None:
    for error in result.errors:
        print(f"warning: {error}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
