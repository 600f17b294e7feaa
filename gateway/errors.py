"""The gateway's error root; every error carries what a person needs to fix its cause.

    GatewayError
    ├── ConfigError          invalid or unreadable configuration (file, key, problem)
    ├── StoreError           the database refused or could not be reached
    │   └── StoreUnavailable   (also ConnectionError) the database is down
    ├── DeliveryError        a reply could not be handed to its channel
    │   ├── DeliveryRetryLater   (temporary: rate limit, connection refused) retry after a delay
    │   └── DeliveryUncertain    the channel may or may not have received it: never resend blindly
    ├── AccessDenied         an operator asked for something outside their role or queues
    └── IntegrationError     a back-office call gave no usable answer (`reason` says why)
        ├── IntegrationTimeout      (also TimeoutError) no answer in time, retries included
        ├── IntegrationCircuitOpen  too many failures lately: not called at all for a while
        ├── IntegrationStatus       a 5xx after the retries (`status`)
        └── IntegrationBadResponse  too large, not JSON, or the integration is off/unknown
"""

from __future__ import annotations


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """Configuration that cannot be used; the message names file, key and problem."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class StoreError(GatewayError):
    """The database refused an operation."""


class StoreUnavailable(StoreError, ConnectionError):
    """The database cannot be reached right now."""


class DeliveryError(GatewayError):
    """A reply could not be handed to its channel; permanent unless a subclass says otherwise."""


class DeliveryRetryLater(DeliveryError):
    """Temporary failure; `retry_after` seconds is the channel's own hint when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryUncertain(DeliveryError):
    """The outcome is unknown (e.g. connection lost after SMTP DATA); resending could duplicate."""


class AccessDenied(GatewayError):
    """An operator asked for an object outside their role or queues."""


class IntegrationError(GatewayError):
    """A back-office call failed; `reason` is short, has no personal data, and goes on the
    hand-off ticket and in the logs."""

    def __init__(self, integration: str, reason: str) -> None:
        self.integration, self.reason = integration, reason
        super().__init__(f"{integration}: {reason}")


class IntegrationTimeout(IntegrationError, TimeoutError):
    """No answer within the integration's timeout, on every attempt."""


class IntegrationCircuitOpen(IntegrationError):
    """The integration failed `breaker_failures` times in a row: calls wait `breaker_seconds`."""


class IntegrationStatus(IntegrationError):
    """The back office answered with a server error (after the retries)."""

    def __init__(self, integration: str, status: int) -> None:
        self.status = status
        super().__init__(integration, f"HTTP {status}")


class IntegrationBadResponse(IntegrationError):
    """An answer the bot must not use: over the size limit, not JSON, or no such integration."""
