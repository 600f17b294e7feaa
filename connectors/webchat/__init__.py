"""The web chat channel: an embeddable widget talking to the gateway over one WebSocket.

Protocol (JSON frames):
  client → {"type": "hello", "session": str | null, "after": last_message_id, "name"?: str,
            "lang"?: "fr", "identity"?: {"id": str, "hash": hex HMAC-SHA256},
            "resume"?: str}
           (a signed customer, identity.py; refused: an error frame, then anonymous;
           `resume`: a mailed follow-up link's token, follow_up.py)
  server → {"type": "welcome", "session": str, "conversation_id": int | null,
            "hours": str,       (when people reply, or when they open: presence.py)
            "title"?: str,      (the header's title from `[webchat] title`)
            "greeting"?: str,   (a first visit: the `greeting` text in `lang`, docs/texts.md)
            "follow_up": {"offered": bool, "address"?: masked str | null}}
           then every message after `after` ({"type": "message", ...})
  client → {"type": "message", "client_id": str, "text": str, "language"?: str,
            "action"?: "helpful" | "not_helpful"}
  server → {"type": "ack", "client_id": str, "message_id": int, "conversation_id": int,
            "queued"?: true}   as soon as the message is stored, before it is decided (the
           reply follows; queued: its decision waits behind others', decisions.py)
  server → {"type": "message", "id", "author", "kind", "text", "created_at", "choices"?,
            "client_id"? (a replayed customer message: the id it was sent with)}
  server → {"type": "error", "client_id"?: str, "error": str, "retry"?: true, "busy"?: true,
            "retry_after"?: seconds}
           (retry: a limit or an outage, send again later; otherwise the frame was invalid;
            busy: the process holds as many messages as it may (intake.py), send it again
            after retry_after; a busy message does not count against the rate limits)
  client → {"type": "contact", "email": str, "consent": true}   (after a hand-off)
  server → {"type": "follow_up", "offered": true, "address": "a***@x.be"}
           or {"type": "follow_up", "error": "invalid_address"}
  client → {"type": "seen", "upto": message_id}   (shown while the customer looks)
  client → {"type": "transcript"}  →  server → {"type": "transcript", "sent": bool}
  server → {"type": "read", "upto": message_id}   (an operator had it on screen: "Seen")

The session is the server's choice (192 random bits): `hello` resumes a session only if
the gateway issued it; any other value gets a new one in `welcome`, which the client keeps.
Limits per source address and per session (connectors/webchat/limits.py) refuse floods;
over the cap of new sessions per address the `hello` gets an error and the socket closes.

The client keeps unacknowledged messages and resends them after a reconnect; the server
deduplicates them by `client_id`, so a flaky network never loses nor doubles a message.
Replies are pushed to live sockets by `send`; a disconnected client catches up from the
store with `after`.
"""

from __future__ import annotations

from connectors.webchat.connector import WebChatConnector, setup

__all__ = ["WebChatConnector", "setup"]
