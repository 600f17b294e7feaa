"""Reaching out: the company starts the conversation on the customer's own channel
(notifications from the company's systems; call-backs and follow-ups, docs/outbound.md)."""
