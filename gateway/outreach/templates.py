"""Notification templates: files like KB articles, one per template, in the four languages.

```yaml
id: order-shipped
category: order            # what a customer opts out of
translations:
  en: {subject: "Your order {order.ref} is on its way", body: "Hello {customer.name}, ..."}
```

Placeholders are those of KB answers plus `{fields.NAME}` (the caller's fields) and
`{order.ref}`; values are escaped as Markdown text and a missing one reads neutrally, with
the same renderer as KB answers (`knowledge_base.render`). The directory is read again when
a file changes; a broken file is logged and left out, the others still load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge_base.model import LANGUAGES
from knowledge_base.render import render_answer

log = structlog.get_logger(__name__)

#: Sections whose every key is a placeholder: what the caller sends, and the order.
OPEN_SECTIONS = frozenset({"fields", "order"})


class _Translation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)


class _TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
    category: str = Field("service", pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    translations: dict[str, _Translation]


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str
    category: str


@dataclass(frozen=True)
class Template:
    id: str
    category: str
    translations: Mapping[str, _Translation]

    def render(self, language: str | None, default: str,
               context: Mapping[str, Mapping[str, object]]) -> Rendered:
        """In the customer's language, else the default one, else the first written."""
        chosen = next(lang for lang in (language or default, default, *LANGUAGES,
                                        *self.translations) if lang in self.translations)
        text = self.translations[chosen]
        subject = render_answer(text.subject, context, OPEN_SECTIONS)
        return Rendered(" ".join(subject.split()),
                        render_answer(text.body, context, OPEN_SECTIONS).strip(),
                        chosen, self.category)


def read_template(path: Path) -> Template:
    """One file; ValueError says what is wrong with it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _TemplateFile.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    unknown = set(parsed.translations) - set(LANGUAGES)
    if unknown or not parsed.translations:
        raise ValueError(f"{path}: translations must be some of {', '.join(LANGUAGES)}")
    return Template(parsed.id, parsed.category, parsed.translations)


class Templates:
    """The templates directory, read again when a file is added, changed or removed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[tuple[str, float, int], ...] | None = None
        self._templates: dict[str, Template] = {}

    def get(self, template_id: str) -> Template | None:
        return self._current().get(template_id)

    def _current(self) -> dict[str, Template]:
        files = sorted(p for pattern in ("*.yaml", "*.yml") for p in self.path.glob(pattern)
                       if not p.name.startswith(".")) if self.path.is_dir() else []
        stamp = tuple((str(p), s.st_mtime, s.st_size) for p in files if (s := p.stat()))
        if stamp != self._stamp:
            templates: dict[str, Template] = {}
            for file in files:
                try:
                    template = read_template(file)
                except ValueError as exc:
                    log.error("templates.invalid", error=str(exc)[:500])
                    continue
                if template.id in templates:
                    log.error("templates.duplicate", template=template.id, path=str(file))
                    continue
                templates[template.id] = template
            self._templates, self._stamp = templates, stamp
            log.info("templates.loaded", path=str(self.path), templates=len(templates))
        return self._templates
