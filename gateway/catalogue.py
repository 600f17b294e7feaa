"""Texts of the lower layers that the console shows (ticket errors, password rules,
dashboard titles): English msgids, marked with `N_` where they are written so that
`pybabel extract` (babel.cfg) puts them in the console's catalogues, and translated by the
console when it shows them. The layers below the console cannot import it, hence this mark of
their own; what they say elsewhere (the API, Slack, the CLI, logs) stays the English text.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark `message` for the console's catalogue; it is returned unchanged."""
    return message
