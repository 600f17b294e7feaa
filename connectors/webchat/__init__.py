"""The web chat channel: an embeddable widget talking to the gateway over one WebSocket.

Protocol (JSON frames):
  client → {"type": "hello", "session": str | null, "after": last_message_id, "name"?: str,
            "lang"?: "fr"}
  server → {"type": "welcome", "session": str, "conversation_id": int | null,
            "greeting"?: str}   (a first visit: the `greeting` text in `lang`, docs/texts.md)
           then every message after `after` ({"type": "message", ...})
  client → {"type": "message", "client_id": str, "text": str, "language"?: str}
  server → {"type": "ack", "client_id": str, "message_id": int}   once the message is stored
  server → {"type": "message", "id", "author", "kind", "text", "created_at", "choices"?}
  server → {"type": "error", "client_id"?: str, "error": str}   (e.g. database down: resend)

The client keeps unacknowledged messages and resends them after a reconnect; the server
deduplicates them by `client_id`, so a flaky network never loses nor doubles a message.
Replies are pushed to live sockets by `send`; a disconnected client catches up from the
store with `after`.
"""

from __future__ import annotations

from connectors.webchat.connector import WebChatConnector, setup

__all__ = ["WebChatConnector", "setup"]
