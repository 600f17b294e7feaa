"""`kb lint` for articles' `action:` (docs/actions.md): what would make a lookup fail
in front of a customer, found before the edit is published.

The file format itself (keys, a pattern that compiles, a POST without confirmation) is
checked when the file loads; this checks what only makes sense across keys: the names the
path and templates use, the integrations the gateway has, the translations.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Literal

from knowledge_base.actions import BUILTIN_VALUES, ActionSpec, template_problems
from knowledge_base.errors import KBError
from knowledge_base.model import Article


def integration_names(config: Path) -> set[str]:
    """The `[integrations.NAME]` names of a gateway settings file (no gateway import)."""
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KBError(f"{config}: cannot read the settings: {exc}") from None
    section = data.get("integrations", {})
    return set(section) if isinstance(section, dict) else set()


Severity = Literal["error", "warning"]


def action_problems(article: Article, integrations: Collection[str] | None
                    ) -> Iterator[tuple[Severity, str]]:
    """(severity, message) for one article's action; `integrations` None: not checked."""
    spec = article.action
    if spec is None:
        return
    if integrations is not None and spec.integration not in integrations:
        known = ", ".join(sorted(integrations)) or "none configured"
        yield "error", f"action: unknown integration '{spec.integration}' (known: {known})"
    slots = {slot.name for slot in spec.slots}
    for name in sorted(spec.placeholders() - slots - BUILTIN_VALUES):
        yield "error", (f"action: '{{{name}}}' is used in the path, query or body but is no "
                        f"slot (slots: {', '.join(sorted(slots)) or 'none'})")
    if "customer_number" in spec.placeholders() and not article.requires_verification:
        yield "error", ("action: uses {customer_number} without requires_verification: true "
                        "(it is only known once the customer is verified)")
    for where, _, template in spec.templates():
        for problem in template_problems(template, slots):
            yield "error", f"action.{where}: {problem}"
    yield from _missing_languages(article, spec)


def _missing_languages(article: Article, spec: ActionSpec) -> Iterator[tuple[Severity, str]]:
    languages = set(article.translations)
    texts: list[tuple[str, set[str]]] = [(f"slots.{slot.name}.prompt", set(slot.prompt))
                                         for slot in spec.slots]
    if spec.confirm:
        texts.append(("confirm", set(spec.confirm)))
    texts += [(f"outcomes[{n}].answer", set(o.answer)) for n, o in enumerate(spec.outcomes)]
    for where, written in texts:
        missing = sorted(languages - written)
        if missing:
            yield "warning", (f"action.{where}: missing translation(s): {', '.join(missing)} "
                              "(customers get the English or first one instead)")
