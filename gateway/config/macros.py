"""Macros (`[[console.macros]]`): a named set of changes an operator applies in one click.

A macro may set the status and the priority, add and remove tags, and put a text (with the
canned answers' placeholders: `{customer.name}`, `{ticket.id}`…) into the reply box, where
the operator edits it before sending; applying one sends nothing. Kept apart from
gateway/config/settings.py, which includes them under `[console]`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from gateway import tags


class MacroSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=60)
    #: Put into the reply box at the cursor (Markdown, placeholders filled); "" for none.
    text: str = Field("", max_length=4000)
    status: Literal["open", "pending", "solved"] | None = None
    #: One of the configured priorities (checked when applied).
    priority: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()

    @field_validator("add_tags", "remove_tags")
    @classmethod
    def _tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        folded = tuple(tags.normalise(tag) or "" for tag in value)
        bad = [raw for raw, tag in zip(value, folded, strict=True) if not tag]
        if bad:
            raise ValueError(f"not tags (1-32 letters, digits, - or _): {', '.join(bad)}")
        return folded


def _unique(macros: tuple[MacroSettings, ...]) -> tuple[MacroSettings, ...]:
    names = [macro.name for macro in macros]
    if len(set(names)) != len(names):
        raise ValueError("two macros have the same name")
    return macros


Macros = Annotated[tuple[MacroSettings, ...], AfterValidator(_unique)]
