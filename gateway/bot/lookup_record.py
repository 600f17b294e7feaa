"""What a ticket keeps of a back-office call: the request as the admin wrote it, the values
it was made with and what came back, personal fields masked before anything is stored.

An operator needs to see what the bot looked up and what the back office said ("status:
shipped, carrier: bpost"), not the customer's address or phone number copied onto every
ticket: values of slots and response fields whose names contain one of the integration's
`mask` words (`[integrations.NAME] mask`) are kept as "•••". Only the top-level fields of a
JSON object are shown, at most `MAX_FIELDS`, each cut to `MAX_VALUE` characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.models import utcnow
from knowledge_base.model import Article

MAX_FIELDS = 20
MAX_VALUE = 200
MASK = "•••"


def record(article: Article, values: Mapping[str, str], result: str,
           mask: Sequence[str], data: Any = None) -> dict[str, Any]:
    assert article.action is not None
    spec = article.action
    action: dict[str, Any] = {
        "article_id": article.id, "integration": spec.integration, "method": spec.method,
        "path": spec.path, "slots": _shown(kept(values), mask), "result": result,
        "at": utcnow().isoformat()}
    if isinstance(data, Mapping):
        action["fields"] = _shown({str(k): _plain(v) for k, v in
                                   list(data.items())[:MAX_FIELDS]}, mask)
    return {"action": action}


def kept(values: Mapping[str, str]) -> dict[str, str]:
    """The slot values (the verified customer number is the conversation's, not repeated)."""
    return {k: v for k, v in values.items() if k not in {"customer_number", "language"}}


def _shown(values: Mapping[str, str], mask: Sequence[str]) -> dict[str, str]:
    words = [m.lower() for m in mask]
    return {k: MASK if any(w in k.lower() for w in words) else v for k, v in values.items()}


def _plain(value: Any) -> str:
    if isinstance(value, Mapping | list):
        return "[…]"
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"
