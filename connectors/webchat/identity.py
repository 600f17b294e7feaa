"""Signed identity: a site that knows its logged-in customer passes their id with an
HMAC-SHA256 of it under a secret shared with the gateway (as Chatwoot's and Intercom's
identity verification do). A valid signature makes the chat that customer, verified, with
no number to type; anything else is refused and trusted for nothing.
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

from gateway.channels import ConversationKey, Identity
from gateway.store import Store

#: The identity's address among web chat identities: one customer record for every session
#: and device of that customer (session addresses are 40 hex digits, never this prefix).
PREFIX = "customer:"


def signature(secret: SecretStr, customer_id: str) -> str:
    """What the site computes: hex HMAC-SHA256 of the id (UTF-8) under the secret."""
    return hmac.new(secret.get_secret_value().encode(), customer_id.encode(),
                    hashlib.sha256).hexdigest()


def refusal(secret: SecretStr | None, customer_id: str, signed: str) -> str | None:
    """Why the identity is refused, or None when the signature is the secret's."""
    if secret is None:
        return "identity refused: this gateway accepts no signed identity (no identity_secret)"
    if not hmac.compare_digest(signature(secret, customer_id), signed.lower()):
        return "identity refused: the signature does not match this customer id"
    return None


async def verify_conversation(store: Store, key: ConversationKey, customer: Identity,
                              number: str, language: str | None) -> None:
    """Mark the session's conversation verified as `number` before its first message is
    decided, as a typed customer number and postal code would (docs/verification.md)."""
    record = await store.resolve_customer(customer)
    conversation = await store.conversation_for(key, record.id, language)
    if conversation.verified_number == number:
        return
    await store.update_conversation(conversation.id, verified_number=number)
    await store.update_customer(record.id, number=number)
    await store.add_event("customer", "verification.succeeded", conversation_id=conversation.id,
                          data={"number": number, "by": "signed identity"})
