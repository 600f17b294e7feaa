"""What an operator reads for the console's stable codes: statuses, SLA states, outcomes,
purposes, roles, presences (priorities are codes, P1…P4, read the same in every
language). The codes stay what is stored, filtered on and exported (a CSV
keeps the code in a column beside the label); only the label is translated.

The labels are English msgids marked with `N_` here and translated when shown
(`label`, the templates' `|label("status")` filter). A code without a label (an outcome a
desk added in its config) is shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.console.i18n import N_, gettext

KINDS: dict[str, dict[str, str]] = {
    "status": {
        "new": N_("new"), "open": N_("open"), "pending": N_("pending"),
        "solved": N_("solved"), "closed": N_("closed"),
    },
    "sla": {
        "ok": N_("ok"), "warning": N_("warning"), "breached": N_("breached"),
        "paused": N_("paused"), "met": N_("met"), "stopped": N_("stopped"),
        "running": N_("running"),
    },
    "clock": {"First response": N_("First response"), "Resolution": N_("Resolution"),
              "SLA": N_("SLA")},
    "outcome": {
        "answered": N_("answered"), "order-taken": N_("order taken"),
        "appointment-made": N_("appointment made"), "forwarded": N_("forwarded"),
        "no-reply-from-customer": N_("no reply from the customer"),
        "duplicate": N_("duplicate"),
    },
    "purpose": {
        "order": N_("order"), "sales": N_("sales"), "information": N_("information"),
        "assistance": N_("assistance"), "complaint": N_("complaint"),
    },
    "campaign": {"scheduled": N_("scheduled"), "running": N_("running"),
                 "paused": N_("paused"), "done": N_("done")},
    "delivery": {"pending": N_("pending"), "sent": N_("sent"),
                 "failed": N_("failed"), "uncertain": N_("uncertain")},
    "role": {"agent": N_("agent"), "supervisor": N_("supervisor"), "admin": N_("admin")},
    "presence": {"available": N_("available"), "busy": N_("busy"), "away": N_("away")},
}


def label(code: object, kind: str, say: Callable[[str], str] = gettext) -> str:
    """The operator's word for `code` of `kind` ("pending" → "en attente"): in the request's
    language, or in the one `say` speaks (`i18n.translator(language).gettext`)."""
    text = str(code)
    known = KINDS[kind].get(text)
    return say(known) if known is not None else text
