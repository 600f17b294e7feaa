"""The console's languages: gettext catalogues (Babel), and which one a request speaks.

Catalogues are `locale/<lang>/LC_MESSAGES/console.po`, extracted with `pybabel extract`
(babel.cfg) and compiled here, at first use, from the .po files themselves: a fresh checkout
works without a build step and a compiled file can never be older than its source (a .mo
committed beside the .po could). Compiling the four catalogues takes about 75 ms,
once per process.

Requests interleave on one event loop, so the language is never set on the shared Jinja2
environment: the guard sets a context variable for the request's task (`use`), and
`gettext`/`ngettext` (installed in the environment, and used by the console's Python code
as `_`) read it. A task started elsewhere speaks the desk's default, English unless `use`d.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from contextvars import ContextVar, Token
from datetime import date, time, timedelta
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.dates import TIMEDELTA_UNITS, format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

#: The console's languages, English first (the source language of every msgid).
LOCALES: tuple[str, ...] = ("en", "fr", "nl", "de")
NAMES = {"en": "English", "fr": "Français", "nl": "Nederlands", "de": "Deutsch"}
DOMAIN = "console"
LOCALE_DIR = Path(__file__).parent / "locale"
#: The regional variant numbers and dates are formatted in: a Belgian desk (English as in
#: Britain: a day-month date, a 24-hour clock, "1,234").
FORMAT_LOCALES = {"en": "en_GB", "fr": "fr_BE", "nl": "nl_BE", "de": "de_BE"}
#: At most this many languages of an Accept-Language header are looked at.
MAX_ACCEPTED = 20

_current: ContextVar[str] = ContextVar("console_locale", default="en")


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> Translations:
    """The compiled catalogue of one language (English: the msgids themselves)."""
    if language not in LOCALES:
        raise ValueError(f"no console catalogue for {language!r}")
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy entry is a guess: not shown
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translator(language: str | None) -> Translations:
    """The catalogue of an explicit language, for what is said outside a console request
    (the Slack operators' channel, `[slack] operator_language`): "fr-BE" speaks French, a
    language without a catalogue English. Its `gettext` never reads the request's language."""
    base = (language or "").replace("_", "-").partition("-")[0].lower()
    return translations(base if base in LOCALES else "en")


def use(language: str) -> Token[str]:
    """Speak `language` for the rest of this task (a request); `reset` undoes it."""
    return _current.set(language if language in LOCALES else "en")


def reset(token: Token[str]) -> None:
    _current.reset(token)


def current() -> str:
    return _current.get()


def format_locale() -> Locale:
    """The request's regional variant, parsed once per process (a page formats a hundred
    dates and ages: `Locale.parse` on each was a tenth of a list page's time)."""
    return _format_locale(current())


@cache
def _format_locale(language: str) -> Locale:
    return Locale.parse(FORMAT_LOCALES[language])


@lru_cache(maxsize=4096)
def day_text(day: date, language: str) -> str:
    """A date as `format_date(day, "medium")` says it in `language`'s regional variant;
    kept (the rows of a page share a few days, and the next page load the same ones)."""
    return format_date(day, "medium", locale=_format_locale(language))


@lru_cache(maxsize=8192)
def clock_text(hour: int, minute: int, language: str) -> str:
    """A time of day to the minute as `format_time(…, "short")` says it (the short
    patterns of the four variants hold hours and minutes only)."""
    return format_time(time(hour, minute), "short", locale=_format_locale(language))


def relative(delta: timedelta) -> str:
    """"in 2 hours" / "5 min ago", "dans 2 heures": exactly what Babel's `format_timedelta
    (delta, add_direction=True, format="short", granularity="minute")` says in the request's
    language, the unit and rounding chosen here and the text kept per (direction, unit,
    value): the same few dozen texts make every page's ages."""
    seconds = delta.total_seconds()
    for unit, per_unit in TIMEDELTA_UNITS:
        value = abs(seconds) / per_unit
        if value >= _THRESHOLD or unit == "minute":
            if unit == "minute" and value > 0:
                value = max(1, value)
            return _relative_text(seconds >= 0, unit, round(value), current())
    return ""  # pragma: no cover (the minute always answers)


#: `format_timedelta`'s default threshold: a unit is used from 0.85 of it.
_THRESHOLD = 0.85


@lru_cache(maxsize=2048)
def _relative_text(future: bool, unit: str, value: int, language: str) -> str:
    """Babel's own pattern look-up of `format_timedelta` (short, with direction)."""
    locale = _format_locale(language)
    rel = locale._data["date_fields"]
    patterns_of = (rel.get(f"{unit}-short") or rel.get(unit) or {})
    candidates = (patterns_of["future" if future else "past"],
                  locale._data["unit_patterns"].get(f"duration-{unit}", {}).get("short"))
    form = locale.plural_form(value)
    for patterns in candidates:
        if patterns is not None:
            pattern = patterns.get(form) or patterns.get("other")
            if pattern:
                return str(pattern.replace("{0}", str(value)))
    return ""


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


_ = gettext


def said(message: str, params: Mapping[str, object] | None = None) -> str:
    """A lower layer's text (an English msgid marked with `gateway.catalogue.N_`: a
    `TicketError`'s) in the request's language, its `%(name)s` placeholders filled."""
    text = gettext(message)
    return text % params if params else text


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; `_()` translates it when shown."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural message for extraction where it is defined (`ngettext` shows it)."""
    return singular, plural


#: What the console's scripts say (static/*.js), given to them translated on every page
#: (`script_messages`, the body's `data-messages`): English msgids, `%(name)s` placeholders.
SCRIPT_MESSAGES: tuple[str | tuple[str, str], ...] = (
    N_("live"), N_("offline"), N_("reconnecting…"),
    N_("Tick tickets to change several at once."),
    Np_("%(num)s ticket selected", "%(num)s tickets selected"),
    N_("%(shown)s of %(total)s answers"), N_("%(shown)s of %(total)s answers match"),
    N_("Inserted “%(title)s” at the cursor; your draft is kept. Edit it, then send."),
    N_("Inserted “%(title)s” into the reply box. Edit it, then send."),
    N_("The answers could not be loaded."),
    N_("Applying “%(macro)s”…"), N_("Applied “%(macro)s”: %(changes)s."),
    N_("Applied “%(macro)s”."),
    N_("Its text is in the reply box; your draft is kept."),
    N_("Its text is in the reply box: edit it, then send."),
    N_("The macro could not be applied (%(error)s)."),
    N_("Also on this ticket: "), N_("%(name)s is replying"), N_("%(name)s is viewing"),
    N_("At most %(num)s files can be sent with one reply."),
    N_("%(name)s is larger than %(size)s."), N_("The files together are larger than %(size)s."),
    N_("Colleagues to mention"),
    Np_("%(num)s unread notification", "%(num)s unread notifications"),
)


def script_messages() -> dict[str, str | list[str]]:
    """The scripts' texts in the request's language; a plural as its [one, other] forms,
    keyed by the English singular (console.js `hgwCount` picks the form: French counts 0
    as one, the other three languages only 1)."""
    said: dict[str, str | list[str]] = {}
    for message in SCRIPT_MESSAGES:
        if isinstance(message, tuple):
            said[message[0]] = [ngettext(*message, 1), ngettext(*message, 2)]
        else:
            said[message] = gettext(message)
    return said


def accepted(header: str | None) -> list[str]:
    """The languages of an Accept-Language header, most wanted first (q=0 left out)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:MAX_ACCEPTED]):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _q, _p, tag in sorted(ranked)]


def choose(chosen: str | None, accept_language: str | None, default: str) -> str:
    """The operator's own choice, else the browser's best, else the desk's default."""
    if chosen in LOCALES:
        return chosen
    # "nl-BE" matches the Dutch catalogue (Babel falls back to the language part).
    found = negotiate_locale([tag.replace("_", "-") for tag in accepted(accept_language)],
                             LOCALES, sep="-")
    if found in LOCALES:
        return found
    return default if default in LOCALES else "en"


def language_names(languages: Sequence[str] = LOCALES) -> dict[str, str]:
    """Each language by its own name (how an operator looks for theirs)."""
    return {code: NAMES[code] for code in languages}
