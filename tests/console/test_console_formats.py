"""The console's kept date, time and age texts say exactly what Babel says."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta
from markupsafe import Markup

from gateway.console import i18n, pages


def test_ages_and_moments_are_babels_in_every_language() -> None:
    shuffled = random.Random(16)
    deltas = [0, 0.4, -0.4, 29.9, 30, -30, 89.9, 90, 3599, 3600, 86400 * 0.85,
              *range(-100_000, 100_000, 97),
              *(shuffled.uniform(-4e8, 4e8) for _ in range(3000))]
    zone = ZoneInfo("Europe/Brussels")
    moments = [datetime(2026, 3, 29, 0, 30, tzinfo=UTC) + timedelta(minutes=m)
               for m in range(0, 240, 7)]  # across the switch to summer time
    moments += [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=shuffled.uniform(0, 3e8))
                for _ in range(500)]
    for language in i18n.LOCALES:
        token = i18n.use(language)
        try:
            where = i18n.format_locale()
            for seconds in deltas:
                delta = timedelta(seconds=seconds)
                assert i18n.relative(delta) == format_timedelta(
                    delta, add_direction=True, format="short", granularity="minute",
                    locale=where), (language, seconds)
            for moment in moments:
                local = moment.astimezone(zone)
                assert pages.when(moment, zone) == (
                    f"{format_date(local, 'medium', locale=where)} "
                    f"{format_time(local, 'short', locale=where)} {local.strftime('%Z')}")
        finally:
            i18n.reset(token)


def test_template_gettext_formats_as_jinjas_newstyle_gettext() -> None:
    assert pages.template_gettext("Status") == Markup("Status")
    assert pages.template_gettext("Select ticket #%(id)s", id="<b>") == \
        "Select ticket #&lt;b&gt;"
    assert pages.template_gettext("100%%") == "100%"  # a format string even without values
    assert pages.template_ngettext("%(num)d ticket", "%(num)d tickets", 2) == "2 tickets"
