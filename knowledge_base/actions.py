"""An article's `action:`: the slots it asks for, the back-office call it makes and the
answers it renders from the JSON response (docs/actions.md).

Admins write these in the KB files, so the format is strict (unknown keys are errors, a
pattern must compile, a POST must say how it is confirmed) and the answer templates run in
Jinja2's sandbox with every printed value escaped as Markdown text: a back office (or a
customer, through a slot) returning "[click](https://evil.example)" shows those characters,
never a link. A field the response lacks is an error, never an empty sentence: the bot
hands off instead, unless the template gives it a `| default("…")`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from knowledge_base.render import escape_markdown

Language = Literal["en", "fr", "nl", "de"]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$", max_length=40)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
#: Values every action may use besides its slots: the verified customer's number, the
#: conversation's language.
BUILTIN_VALUES = frozenset({"customer_number", "language"})
#: What answer templates may read.
TEMPLATE_NAMES = frozenset({"response", "slots", "customer", "company", "status"})
#: A customer's message is searched for a slot value only in its first characters.
_MAX_SEARCH = 2000
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class OptionsSpec(_Strict):
    """Where a slot's choices come from at the time of asking (free slots, shops with
    stock): a GET on the action's integration, the list in one response field."""

    path: Annotated[str, StringConstraints(pattern=r"^/([^/?#][^?#]*)?$", max_length=300)]
    query: dict[Name, str] = Field(default_factory=dict)
    #: The response's field holding the list of choices (text).
    field: Name


class SlotSpec(_Strict):
    """One value the action needs, asked for in the customer's language when missing."""

    name: Name
    #: The whole value must match (e.g. `VEL-\\d{5}`); it is also found inside a message.
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    #: Or one of these (case-insensitive), e.g. shops or products.
    choices: list[Text] = Field(default_factory=list)
    prompt: dict[Language, Text] = Field(min_length=1)
    #: Or offered from a lookup as a numbered list (buttons where the channel has them).
    options: OptionsSpec | None = None
    #: How the value is passed on: as typed, or upper/lower case ("vel-20481" → VEL-20481).
    case: Literal["keep", "upper", "lower"] = "keep"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _checkable(self) -> SlotSpec:
        if self.pattern is None and not self.choices and self.options is None:
            raise ValueError(f"slot {self.name!r} needs a pattern, choices or options")
        return self

    def find(self, text: str) -> str | None:
        """The slot's value in a message ("where is order vel-20481?"), or None."""
        value = self._find(text[:_MAX_SEARCH])
        if value is None or self.case == "keep":
            return value
        return value.upper() if self.case == "upper" else value.lower()

    def _find(self, text: str) -> str | None:
        if self.pattern is None and not self.choices:
            return None  # options: only a pick among those offered (`pick_option`)
        if self.pattern is not None:
            whole = _compiled(self.pattern).fullmatch(text.strip())
            if whole:
                return whole.group(0)
            found = _compiled(self.pattern).search(text)
            return found.group(0) if found else None
        folded = text.casefold()
        for choice in sorted(self.choices, key=len, reverse=True):
            if re.search(rf"(?<!\w){re.escape(choice.casefold())}(?!\w)", folded):
                return choice
        return None


class OutcomeSpec(_Strict):
    """One possible result: chosen by HTTP status and optionally one response field."""

    #: Statuses it is for (default: any 2xx).
    status: list[int] = Field(default_factory=list)
    #: `field: status` + `equals: shipped` compares response["status"] as text.
    field: Name | None = None
    equals: str | None = None
    answer: dict[Language, str] = Field(min_length=1)
    #: Also give the conversation to people (e.g. "delayed": the answer says a colleague
    #: follows up, and there is a ticket behind it).
    handoff: bool = False

    def matches(self, status: int, data: Any) -> bool:
        if self.status and status not in self.status:
            return False
        if not self.status and not 200 <= status < 300:
            return False
        if self.field is not None:
            value = data.get(self.field) if isinstance(data, Mapping) else None
            return value is not None and str(value).casefold() == (self.equals or "").casefold()
        return True


class ActionSpec(_Strict):
    integration: Name
    method: Literal["GET", "POST"] = "GET"
    #: `/orders/{order_number}`: each `{slot}` becomes one percent-encoded path segment.
    path: Annotated[str, StringConstraints(pattern=r"^/([^/?#][^?#]*)?$", max_length=300)]
    query: dict[Name, str] = Field(default_factory=dict)
    #: JSON body of a POST: field → `{slot}` template.
    body: dict[Name, str] = Field(default_factory=dict)
    slots: list[SlotSpec] = Field(default_factory=list)
    #: Summary asked before a POST ("I will book … on {{ slots.date }}: confirm?").
    confirm: dict[Language, str] = Field(default_factory=dict)
    outcomes: list[OutcomeSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _post_is_confirmed(self) -> ActionSpec:
        if self.method == "POST" and not self.confirm:
            raise ValueError("a POST changes something: give `confirm` texts to ask first")
        names = [slot.name for slot in self.slots]
        if len(set(names)) != len(names):
            raise ValueError("two slots have the same name")
        return self

    def slot(self, name: str) -> SlotSpec | None:
        return next((s for s in self.slots if s.name == name), None)

    def outcome(self, status: int, data: Any) -> OutcomeSpec | None:
        return next((o for o in self.outcomes if o.matches(status, data)), None)

    def templates(self) -> list[tuple[str, str, str]]:
        """(where, language, template) of every Jinja template, for lint."""
        found: list[tuple[str, str, str]] = [
            (f"confirm.{lang}", lang, text) for lang, text in self.confirm.items()]
        for index, outcome in enumerate(self.outcomes):
            found += [(f"outcomes[{index}].answer.{lang}", lang, text)
                      for lang, text in outcome.answer.items()]
        return found

    def placeholders(self) -> set[str]:
        """Every `{name}` the path, query and body use (options' lookups included)."""
        texts = [self.path, *self.query.values(), *self.body.values()]
        for slot in self.slots:
            if slot.options is not None:
                texts += [slot.options.path, *slot.options.query.values()]
        return {name for text in texts for name in PLACEHOLDER.findall(text)}


_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def pick_option(text: str, options: list[str]) -> str | None:
    """The option chosen by its number ("2") or its text ("sat 11:00"), or None."""
    number = _NUMBER.match(text)
    if number:
        index = int(number.group(1)) - 1
        return options[index] if 0 <= index < len(options) else None
    folded = " ".join(text[:_MAX_SEARCH].casefold().split())
    for option in sorted(options, key=len, reverse=True):
        if " ".join(option.casefold().split()) in folded:
            return option
    return None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _finalize(value: Any) -> str:
    """Every printed value is text in Markdown (numbers too: "1." opens no list)."""
    if value is None:
        return ""
    return escape_markdown(str(value))


_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, finalize=_finalize,
                                     autoescape=False, trim_blocks=True)


@functools.lru_cache(maxsize=512)
def _template(source: str) -> Any:
    return _ENV.from_string(source)


def render(source: str, context: Mapping[str, Any]) -> str:
    """The template filled; jinja2's UndefinedError when it reads a field that is missing."""
    return str(_template(source).render(**context)).strip()


def template_problems(source: str, slots: set[str]) -> list[str]:
    """What `kb lint` says about one template: syntax, unknown names, undeclared slots."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [f"template error at line {exc.lineno}: {exc.message}"]
    problems = []
    for name in sorted({n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}):
        if name not in TEMPLATE_NAMES and not _assigned(tree, name):
            problems.append(f"unknown name '{name}' (known: {', '.join(sorted(TEMPLATE_NAMES))})")
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == "slots" \
                and node.attr not in slots | BUILTIN_VALUES:
            problems.append(f"slots.{node.attr} is not a declared slot")
    return problems


def _assigned(tree: nodes.Template, name: str) -> bool:
    """A loop variable or `{% set %}` of the template itself."""
    return any(isinstance(n, nodes.Name) and n.name == name and n.ctx in {"store", "param"}
               for n in tree.find_all(nodes.Name))
