"""Migrations of the REST API channel's data.

400: API keys became integrations that own what they create, by an `integration:` prefix on
the API identities' and conversations' addresses. Rows from before belong to no
integration: they get a `~` prefix, a character no integration name holds, so no key
reads them by accident (operators still see them in the console).
"""

from __future__ import annotations

MIGRATIONS_API: tuple[tuple[int, str], ...] = (
    (
        400,
        """
UPDATE conversations SET address = '~' || address WHERE channel = 'api';
UPDATE identities SET address = '~' || address WHERE channel = 'api';
UPDATE messages SET channel_message_id = '~' || channel_message_id
    WHERE channel = 'api' AND channel_message_id IS NOT NULL;
""",
    ),
)
