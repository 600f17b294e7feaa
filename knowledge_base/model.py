"""The knowledge base as the rest of the gateway sees it: immutable articles.

Articles are plain frozen dataclasses so the matcher, the pipeline and the console can share
one snapshot across threads without copying or locking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from knowledge_base.actions import ActionSpec

Category = Literal["order", "sales", "information", "assistance", "complaint"]
CATEGORIES: tuple[str, ...] = get_args(Category)
LANGUAGES = ("en", "fr", "nl", "de")
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class Translation:
    """One language version of an article; `answer` is Markdown with placeholders."""

    title: str
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Article:
    id: str
    category: Category
    translations: Mapping[str, Translation]
    queue: str | None = None
    requires_verification: bool = False
    handoff: bool = False
    source: Path | None = None
    #: Look something up or book it in a back office instead of a static answer.
    action: ActionSpec | None = None

    def translation(self, lang: str) -> tuple[str, Translation]:
        """The customer's language if written, else English, else the first one written.

        Returns the language actually used so the caller can tell the customer (or log)
        that the answer comes in another language.
        """
        for candidate in (lang, FALLBACK_LANGUAGE):
            if candidate in self.translations:
                return candidate, self.translations[candidate]
        first = next(iter(self.translations))
        return first, self.translations[first]
