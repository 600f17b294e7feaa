"""The KB file format as a strict pydantic schema (one YAML file = one article).

Strict on purpose: an unknown key is almost always a typo (`queu:`), and a silently
ignored `requires_verfication: true` would leak account data to unverified customers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from knowledge_base.actions import ActionSpec
from knowledge_base.model import Category

Language = Literal["en", "fr", "nl", "de"]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class TranslationFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    title: NonEmpty
    questions: list[NonEmpty] = Field(min_length=1)
    #: May be empty (e.g. hand-off articles); `kb lint` flags it for the others.
    answer: str = ""


class ArticleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100)]
    category: Category
    queue: NonEmpty | None = None
    requires_verification: bool = False
    handoff: bool = False
    translations: dict[Language, TranslationFile] = Field(min_length=1)
    #: A back-office lookup or booking instead of a static answer (docs/actions.md).
    action: ActionSpec | None = None

    @classmethod
    def known_keys(cls, parent: tuple[str | int, ...]) -> list[str]:
        """Keys allowed at `parent` (for "did you mean" hints)."""
        if not parent:
            return list(cls.model_fields)
        if len(parent) == 2 and parent[0] == "translations":
            return list(TranslationFile.model_fields)
        if parent == ("action",):
            return list(ActionSpec.model_fields)
        return []
