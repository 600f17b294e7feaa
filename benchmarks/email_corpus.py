"""How well the e-mail parser reads 1,322 real public mails nobody on the project wrote.

Scores `parse_message` against the shared corpus (../shared/datasets/email, see its
README: reply-parser fixtures, real bounces, auto-replies) with the measures of
docs/email-parsing.md, and a naive parser on the same mails in the same run:

* reply stripping: exact (per language, source, category and origin), customer text lost
  on `upstream-exact` cases, history kept, forward-only mails whose forwarded text the
  operator no longer sees;
* automated mail: recall and precision (all mails, and real-header `eml` mails only);
* bounces: recognised as bounces, hard/soft agreeing with sisimai's verdict;
* crashes.

Every figure is given for the whole corpus and for a held-out slice (one mail in five,
chosen by a hash of its file name) that rule changes are not tuned on.

    .venv/bin/python benchmarks/email_corpus.py [--corpus DIR] [--failures N]

The corpus path can also come from $EMAIL_CORPUS. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.email.parse import parse_message  # noqa: E402

DEFAULT_CORPUS = Path(os.environ.get("EMAIL_CORPUS", "/work/shared/datasets/email"))
#: One mail in HELD_OUT_MODULO is held out (by a hash of its path): never tuned on.
HELD_OUT_MODULO = 5
#: Forbidden (history) fragments shorter than this only count when they are a whole line.
_SHORT_FRAGMENT = 15


@dataclass(frozen=True)
class Case:
    source: str
    entry: dict[str, Any]
    raw: bytes

    @property
    def key(self) -> str:
        return f"{self.source}/{self.entry['file']}"

    @property
    def held_out(self) -> bool:
        digest = hashlib.sha256(self.key.encode()).digest()
        return digest[0] % HELD_OUT_MODULO == 0


@dataclass(frozen=True)
class Reading:
    """What one parser made of one mail."""

    new_text: str
    shown: str  # what the operator sees: the new text, else the whole text
    automated: bool
    bounce: bool  # read as a bounce (automated reason or a parsed report)
    recipient: bool  # the failed recipient is known: the address can be suppressed
    hard: bool | None
    has_sender: bool


# -- loading ---------------------------------------------------------------------------


def load(corpus: Path) -> list[Case]:
    cases = []
    for manifest in sorted(corpus.glob("*/manifest.json")):
        source = manifest.parent.name
        for entry in json.loads(manifest.read_text(encoding="utf-8"))["cases"]:
            data = (manifest.parent / entry["file"]).read_bytes()
            cases.append(Case(source, entry, _as_mail(entry, data)))
    return cases


def _as_mail(entry: dict[str, Any], data: bytes) -> bytes:
    """`eml` as is; bodies wrapped in a minimal UTF-8 mail, as the corpus README says
    (a quoted-printable body is declared as such, not encoded again)."""
    if entry["input"] == "eml":
        return data
    subtype = "html" if entry["input"] == "html" else "plain"
    cte = "quoted-printable" if entry.get("cte") == "quoted-printable" else "8bit"
    head = (
        "From: Customer <customer@example.org>\r\n"
        "To: support@example.com\r\n"
        "Subject: Re: your question\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
        f"Message-ID: <{hashlib.sha1(data).hexdigest()}@corpus.example>\r\n"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: text/{subtype}; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: {cte}\r\n\r\n"
    )
    return head.encode("ascii") + data


# -- the two parsers -------------------------------------------------------------------


def project(raw: bytes) -> Reading:
    mail = parse_message(raw)
    hard = None
    if mail.bounce is not None:
        hard = bool(getattr(mail.bounce, "hard", mail.bounce.permanent))
    return Reading(
        new_text=mail.new_text,
        shown=mail.new_text.strip() or mail.text.strip(),
        automated=mail.automated is not None or mail.bounce is not None,
        bounce=mail.bounce is not None or mail.automated == "bounce",
        recipient=bool(mail.bounce and mail.bounce.recipient),
        hard=hard,
        has_sender=mail.from_address is not None,
    )


_NAIVE_CUT = re.compile(r"^(?:On .{0,200} wrote:|-+ ?Original Message ?-+)\s*$", re.I | re.M)


def naive(raw: bytes) -> Reading:
    """What a first attempt does: the first text part, cut at "On ... wrote:" or
    "Original Message", ">" lines dropped; automated = RFC 3834 headers or a report."""
    msg = message_from_bytes(raw, policy=policy.default)
    text = ""
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            content = part.get_content() if not part.is_multipart() else ""
            text = str(content)
            if part.get_content_subtype() == "html":
                text = html.unescape(re.sub(r"<[^>]*>", "\n", text))
            break
    cut = _NAIVE_CUT.search(text)
    body = text[: cut.start()] if cut else text
    new_text = "\n".join(x for x in body.splitlines() if not x.startswith(">")).strip()
    dsn = _naive_dsn(msg)
    auto = (str(msg.get("Auto-Submitted", "no")).lower() != "no"
            or str(msg.get("Precedence", "")).lower() in ("bulk", "list", "junk")
            or msg.get_content_type() == "multipart/report")
    status = re.search(r"^Status:\s*(\d\.\d+\.\d+)", dsn or "", re.M)
    hard = bool(status and status.group(1)[0] == "5") if dsn is not None else None
    return Reading(new_text=new_text, shown=new_text or text.strip(), automated=auto,
                   bounce=dsn is not None, recipient=dsn is not None, hard=hard,
                   has_sender=bool(msg.get("From")))


def _naive_dsn(msg: Message) -> str | None:
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                return "\n".join(str(p) for p in payload)
            return str(payload)
    return None


# -- scoring one mail ------------------------------------------------------------------


def _norm(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\xa0", " ").split("\n")]
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    return "\n".join(out).strip()


def _squash(text: str) -> str:
    return "".join(text.split())


def _lines(text: str) -> set[str]:
    return {" ".join(x.lstrip("> ").split()) for x in text.splitlines() if x.strip()}


def reply_scores(case: Case, reading: Reading) -> dict[str, bool]:
    """exact / lost / history_kept / forward_hidden for one reply-labelled mail."""
    label = case.entry["reply"]
    if label["category"] == "forward_only":
        shown = " ".join(re.sub(r"(?m)^[ >]+", "", reading.shown).split())
        hidden = any(" ".join(k.split()) not in shown for k in label.get("must_keep", []))
        return {"exact": not hidden, "lost": hidden, "history_kept": False,
                "forward_hidden": hidden}
    squash = "whitespace" in label.get("note", "") + case.entry.get("note", "")
    out = reading.new_text
    accepted = [label["core"], *label.get("alt_core", [])]
    sig = label.get("sig", [])
    exact = False
    for answer in accepted:
        for k in range(len(sig) + 1):
            candidate = "\n".join([answer, *sig[:k]])
            if squash:
                exact |= _squash(candidate) == _squash(out)
            else:
                exact |= _norm(candidate) == _norm(out)
    out_lines = _lines(out)
    lost = not any(_lines(answer) <= out_lines or (squash and _squash(answer) in _squash(out))
                   for answer in accepted)
    kept = False
    for fragment in label.get("forbidden", []):
        fragment = " ".join(fragment.split())
        if not fragment:
            continue
        if fragment in out_lines or (len(fragment) >= _SHORT_FRAGMENT and fragment in
                                     " ".join(out.split())):
            kept = True
    return {"exact": exact, "lost": lost and not exact, "history_kept": kept and not exact,
            "forward_hidden": False}


# -- aggregating -----------------------------------------------------------------------


def _pct(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def evaluate(cases: list[Case], parser: Callable[[bytes], Reading],
             failures: int = 0) -> dict[str, Any]:
    readings: dict[str, Reading | None] = {}
    crashes: list[str] = []
    started = time.perf_counter()
    slowest = (0.0, "")
    for case in cases:
        t0 = time.perf_counter()
        try:
            readings[case.key] = parser(case.raw)
        except Exception as exc:  # a crash is a finding, not the end of the run
            readings[case.key] = None
            crashes.append(f"{case.key}: {type(exc).__name__}")
        slowest = max(slowest, (time.perf_counter() - t0, case.key))
    result: dict[str, Any] = {
        "seconds": round(time.perf_counter() - started, 2),
        "slowest_mail": {"ms": round(slowest[0] * 1000, 1), "mail": slowest[1]},
        "crashes": len(crashes),
        "crashed": crashes[:10],
    }
    for name, subset in (("all", cases), ("held_out", [c for c in cases if c.held_out])):
        result[name] = _score(subset, readings, failures)
    return result


def _score(cases: list[Case], readings: dict[str, Reading | None],
           failures: int) -> dict[str, Any]:
    groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    lost = kept = hidden = 0
    lost_exact: list[str] = []
    missed: list[str] = []
    tp = fp = fn = tp_eml = fp_eml = fn_eml = 0
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    bounces = recognised = with_recipient = agree = verdicts = 0
    unsendered = 0
    missed_bounces: list[str] = []
    disagree: list[str] = []
    false_auto: list[str] = []
    for case in cases:
        reading = readings[case.key]
        label = case.entry.get("reply")
        if label is not None:
            scores = reply_scores(case, reading) if reading else {
                "exact": False, "lost": True, "history_kept": False, "forward_hidden": False}
            forward_only = label["category"] == "forward_only"
            for group in ("lang:" + label["lang"], "source:" + case.source,
                          "category:" + label["category"], "origin:" + label["origin"],
                          "overall:all"):
                if forward_only and not group.startswith("category:"):
                    continue  # scored apart: the operator must see the forward
                kind, _, value = group.partition(":")
                groups[kind][value][0] += scores["exact"]
                groups[kind][value][1] += 1
            if scores["lost"] and label["origin"] == "upstream-exact":
                lost_exact.append(case.key)
            lost += scores["lost"]
            kept += scores["history_kept"]
            hidden += scores["forward_hidden"]
            if not scores["exact"]:
                missed.append(case.key)
        auto = case.entry.get("automated") or {}
        expected = auto.get("expected")
        if expected is not None:
            predicted = bool(reading and reading.automated)
            eml = case.entry["input"] == "eml"
            tp += expected and predicted
            fp += (not expected) and predicted
            fn += expected and not predicted
            if eml:
                tp_eml += expected and predicted
                fp_eml += (not expected) and predicted
                fn_eml += expected and not predicted
            if expected:
                kinds[auto.get("kind") or "?"][0] += predicted
                kinds[auto.get("kind") or "?"][1] += 1
                unsendered += bool(reading and not reading.has_sender and not reading.bounce)
            elif predicted:
                false_auto.append(case.key)
        if auto.get("kind") == "bounce":
            bounces += 1
            if reading and reading.bounce:
                recognised += 1
                with_recipient += reading.recipient
                bounce = case.entry.get("bounce") or {}
                truth = bounce.get("hard_sisimai", bounce.get("hard"))
                if truth is not None and reading.hard is not None:
                    verdicts += 1
                    agree += reading.hard == truth
                    if reading.hard != truth:
                        disagree.append(f"{case.key} ({bounce.get('reason')})")
            else:
                missed_bounces.append(case.key)
    reply: dict[str, Any] = {
        "mails": groups["overall"]["all"][1],
        "exact_pct": _pct(*groups["overall"]["all"]),
        "customer_text_lost": lost,
        "customer_text_lost_upstream_exact": len(lost_exact),
        "history_kept": kept,
        "forward_only_mails": groups["category"]["forward_only"][1],
        "forward_only_hidden": hidden,
    }
    for kind in ("lang", "source", "category", "origin"):
        reply[f"by_{kind}"] = {k: {"exact_pct": _pct(*v), "mails": v[1]}
                               for k, v in sorted(groups[kind].items())}
    reply["en_fr_nl_de_pct"] = {k: _pct(*groups["lang"][k]) for k in ("en", "fr", "nl", "de")}
    out: dict[str, Any] = {
        "reply": reply,
        "automated": {
            "recall_pct": _pct(tp, tp + fn), "precision_pct": _pct(tp, tp + fp),
            "eml_only": {"recall_pct": _pct(tp_eml, tp_eml + fn_eml),
                         "precision_pct": _pct(tp_eml, tp_eml + fp_eml)},
            "recall_by_kind_pct": {k: _pct(*v) for k, v in sorted(kinds.items())},
            "without_sender_and_not_bounce": unsendered,
        },
        "bounces": {
            "mails": bounces, "recognised_pct": _pct(recognised, bounces),
            "failed_recipient_found_pct": _pct(with_recipient, bounces),
            "hard_soft_agree_pct": _pct(agree, verdicts), "verdicts": verdicts,
        },
    }
    if failures:
        out["failures"] = {"reply": missed[:failures], "lost_upstream_exact": lost_exact,
                           "bounce_missed": missed_bounces[:failures],
                           "hard_soft_disagree": disagree[:failures],
                           "false_automated": false_auto[:failures]}
    return out


def _cases_summary(cases: list[Case]) -> Iterator[tuple[str, int]]:
    yield "mails", len(cases)
    yield "held_out", sum(c.held_out for c in cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--failures", type=int, default=0,
                        help="list up to N failing mails per measure (for debugging)")
    args = parser.parse_args()
    cases = load(args.corpus)
    report = {
        "benchmark": "email_corpus",
        "corpus": str(args.corpus),
        **dict(_cases_summary(cases)),
        "project": evaluate(cases, project, args.failures),
        "baseline_naive": evaluate(cases, naive),
    }
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
