"""Schema for the console's languages (issue 22): the language an operator chose.

Same conventions as `gateway.store.migrations`; versions start at 3300. NULL (every operator
until they choose) means: the browser's Accept-Language, then the desk's default.
"""

from __future__ import annotations

MIGRATIONS_I18N: tuple[tuple[int, str], ...] = (
    (3300, "ALTER TABLE operators ADD COLUMN locale TEXT"),
)
