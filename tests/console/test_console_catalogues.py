"""The console's message catalogues are complete and its templates hold no English of their
own: what `pybabel extract` finds in the code and the templates (babel.cfg) is translated in
French, Dutch and German, and every text of a template goes through the catalogue."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import nodes

from gateway.console import i18n
from gateway.console.pages import TEMPLATES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ("fr", "nl", "de")
#: Attributes a person reads or hears (a screen reader): translated like text.
READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "label")
TAG = re.compile(r"<[^>]*>", re.S)
ATTRIBUTE = re.compile(r"\b(" + "|".join(READ_ATTRIBUTES) + r""")\s*=\s*("[^"]*"|'[^']*')""")
#: Letters left once tags, entities, numbers, punctuation and symbols are gone.
WORDS = re.compile(r"[^\W\d_]{2,}")


def extracted() -> set[str | tuple[str, ...]]:
    """Every msgid as `pybabel extract -F babel.cfg -k N_ -k Np_:1,2` finds it."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "Np_": (1, 2)}
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalogue(language: str) -> Catalog:
    with i18n.po_path(language).open("rb") as source:
        return read_po(source, locale=language)


def _key(msgid: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return msgid if isinstance(msgid, str) else tuple(msgid)


def test_extraction_finds_the_console_messages() -> None:
    found = extracted()
    # from a template, from Python code (`_`, `ngettext`) and marked where defined (`N_`)
    assert "Helpdesk console" in found
    assert "Wrong username or password." in found
    assert ("%(num)d ticket changed.", "%(num)d tickets changed.") in found
    assert "Recently solved" in found and "pending" in found


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_every_extracted_message_is_in_the_catalogue_and_nothing_else(language: str) -> None:
    held = {_key(m.id) for m in catalogue(language) if m.id}
    found = extracted()
    assert sorted(map(str, found - held)) == [], f"missing from {language}: run `make messages`"
    assert sorted(map(str, held - found)) == [], f"obsolete in {language}: run `make messages`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogues_are_translated_without_fuzzy_or_empty_entries(language: str) -> None:
    held = catalogue(language)
    assert held.num_plurals == (3 if language == "fr" else 2)
    for message in held:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert "fuzzy" not in message.flags, (language, message.id)
        assert len(strings) == (held.num_plurals if message.pluralizable else 1), message.id
        assert all(s.strip() for s in strings), (language, message.id)
    # the same placeholders as the msgid (Babel's checkers): "%(num)d" never lost
    problems = [(m.id, [str(e) for e in errors]) for m, errors in held.check()]
    assert problems == []


def test_the_catalogue_translates_and_counts_in_each_language() -> None:
    said = {}
    for language in i18n.LOCALES:
        token = i18n.use(language)
        try:
            said[language] = (i18n.gettext("Log out"),
                              i18n.ngettext("%(num)d ticket changed.",
                                            "%(num)d tickets changed.", 1) % {"num": 1},
                              i18n.ngettext("%(num)d ticket changed.",
                                            "%(num)d tickets changed.", 3) % {"num": 3})
        finally:
            i18n.reset(token)
    assert said == {
        "en": ("Log out", "1 ticket changed.", "3 tickets changed."),
        "fr": ("Se déconnecter", "1 ticket modifié.", "3 tickets modifiés."),
        "nl": ("Afmelden", "1 ticket gewijzigd.", "3 tickets gewijzigd."),
        "de": ("Abmelden", "1 Ticket geändert.", "3 Tickets geändert."),
    }
    # French counts 0 as singular ("0 ticket modifié"), English as plural
    token = i18n.use("fr")
    try:
        assert i18n.ngettext("%(num)d ticket changed.", "%(num)d tickets changed.", 0) == (
            "%(num)d ticket modifié.")
    finally:
        i18n.reset(token)


def _flatten(node: nodes.Node) -> Iterator[str]:
    """The template as the browser would get it with every expression replaced by "§",
    except string constants printed as they are (`{{ x or "none" }}`): the template's own
    text. `{% trans %}` and `_()` are calls, so they are never text here."""
    if isinstance(node, nodes.TemplateData):
        yield node.data
    elif isinstance(node, nodes.Output):
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                yield child.data
            else:
                yield " ".join(_printed_constants(child)) or "§"
    else:
        for child in node.iter_child_nodes():
            yield from _flatten(child)


def _printed_constants(node: nodes.Node) -> Iterator[str]:
    """Constants an expression prints as they are, not those given to a call, a filter, a
    test or a comparison."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, nodes.CondExpr):
        yield from _printed_constants(node.expr1)
        if node.expr2 is not None:
            yield from _printed_constants(node.expr2)
    elif isinstance(node, nodes.Or | nodes.And | nodes.Concat):
        for child in node.iter_child_nodes():
            yield from _printed_constants(child)


def untranslated(source: str, env: jinja2.Environment) -> list[str]:
    """Words of a template that do not go through the catalogue (text, read attributes)."""
    page = "".join(_flatten(env.parse(source)))
    page = re.sub(r"<kbd>\s*\S\s*</kbd>", " ", page)  # a one-key shortcut: "j"
    attributes = [value[1:-1] for _name, value in ATTRIBUTE.findall(page)]
    return [word for piece in (TAG.sub(" ", page), *attributes)
            for word in WORDS.findall(html.unescape(piece))]


def _environment() -> jinja2.Environment:
    return jinja2.Environment(extensions=["jinja2.ext.i18n"], trim_blocks=True,
                              lstrip_blocks=True)


def _sources() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(TEMPLATES.glob("*.html"))}


def test_the_checker_finds_text_outside_the_catalogue() -> None:
    env = _environment()
    assert untranslated('<p title="Due time">{{ _("Due") }}: {{ x or "nobody" }}</p>'
                        '<button>Send</button>', env) == ["nobody", "Send", "Due", "time"]
    assert untranslated('<p class="big">{% trans %}Hello{% endtrans %} · #{{ n }} – 3 '
                        '<kbd>j</kbd> {{ _("Hi %(n)s", n=x|default("-")) }}'
                        '<a href="/x"{% if a == "b" %} title="{{ _(\'Go\') }}"{% endif %}>'
                        '{{ "s" if a else "" }}</a></p>', env) == []


@pytest.mark.parametrize("name", sorted(_sources()))
def test_a_converted_template_holds_no_untranslated_text(name: str) -> None:
    assert untranslated(_sources()[name], _environment()) == []


def test_refusals_in_the_console_code_go_through_the_catalogue() -> None:
    """A `Refused(status, "…")` or `error_page(…, "…")` with a literal message (or an
    f-string) would reach the operator in English whatever their language."""
    import ast

    found = []
    for path in sorted((ROOT / "gateway" / "console").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("Refused", "error_page") and node.args
                    and isinstance(node.args[-1], ast.Constant | ast.JoinedStr)):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
