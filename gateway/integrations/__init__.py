"""Calling the company's back-office systems from the bot: one client per `[integrations.NAME]`
with timeouts, retries, a circuit breaker and a response size limit (docs/integrations.md)."""
