"""Why a mail bounced, in sisimai's vocabulary, and whether that makes the address dead.

"User unknown" is believed only when the bounce says it is about the address: an
addressing status (5.1.x, RFC 3463 §3.2) or a rejection of the RCPT command. The same
words after DATA, or with a mailbox status (5.2.x), come from a filter at the
recipient's end (Japanese carriers, "refused due to recipient preferences"): the
address may well exist, so that is `filtered`, a soft bounce. A few reasons outweigh
even an addressing status (a full mailbox, a relay refusal, a moved mailbox), as they
name the real cause; all others only count when no address reason was found.

Only a dead address or domain (`userunknown`, `hostunknown`, `hasmoved`, a permanent
`notaccept`: null MX, no SMTP service) is hard. Everything here reads bounded text.
"""

from __future__ import annotations

import re

#: Reasons that mean the address or its domain is dead (sisimai's hard bounces).
HARD_REASONS = {"userunknown", "hostunknown", "hasmoved", "notaccept"}

#: RFC 3463 detail codes that name a reason (the subject and detail, "1.1" of 5.1.1).
_STATUS_REASONS = {
    "1.0": "userunknown", "1.1": "userunknown", "1.3": "userunknown", "1.2": "hostunknown",
    "1.4": "filtered", "1.6": "hasmoved", "1.7": "rejected", "1.8": "rejected",
    "1.9": "systemerror", "1.10": "notaccept", "2.0": "filtered", "2.1": "filtered",
    "2.2": "mailboxfull",
    "2.3": "exceedlimit", "2.4": "filtered", "3.1": "systemfull", "3.2": "notaccept",
    "3.4": "mesgtoobig", "4.4": "hostunknown", "4.7": "expired", "7.13": "suspend",
    "7.17": "hasmoved", "7.18": "hasmoved", "7.25": "blocked", "7.26": "authfailure",
    "7.27": "notaccept",
}  # fmt: skip


def _patterns(*pairs: tuple[str, str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in pairs)


#: Causes that outweigh an addressing status: they say what really happened.
_OVERRIDING = _patterns(
    ("mailboxfull", r"mailbox (?:is )?full|over ?quota|quota exceeded|full mailbox|disk full"
                    r"|exceeded (?:the |his |her )?(?:storage|quota)|user is over"
                    r"|insufficient (?:disk |storage )?space|mailbox size limit|too much mail"),
    ("mesgtoobig", r"message (?:is )?too (?:big|large)|message size .{0,40}exceed"
                   r"|exceeds? .{0,30}size|size limit"),
    ("suspend", r"suspend|(?:mailbox|account|address|user) (?:is |has been )?(?:disabled"
                r"|deactivated|inactive|locked|closed|on hold)"),
    ("hasmoved", r"has moved|no longer (?:valid|active|in use|with)|address changed"),
    ("norelaying", r"relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed))"
                   r"|unable to relay|not permitted to relay|we do not relay"),
)
_USER_UNKNOWN = re.compile(
    r"user unknown|unknown user|no such (?:user|mailbox|recipient|address|person)"
    r"|does not exist|doesn'?t exist|not exist|no mailbox|mailbox not found"
    r"|mailbox (?:is )?unavailable|invalid (?:recipient|mailbox|address|user|final delivery)"
    r"|recipient (?:not found|unknown|name is not recognized)"
    r"|unknown (?:recipient|address|mailbox|local part)|not a valid (?:mailbox|user|recipient)"
    r"|user not found|addressee unknown|not our customer|no longer available"
    r"|bad destination mailbox|not listed in|address (?:couldn't|could not) be found"
    r"|address not found|(?:address|user ?name|recipient|mailbox) .{0,30}not valid"
    r"|unrouteable address|(?:doesn't|does not) have an? .{0,40}account"
    r"|no valid recipients|recipient address rejected(?:\.|: access denied)",
    re.IGNORECASE,
)
#: The recipient's own filter turned the mail away (sisimai's `filtered`).
_FILTERED = re.compile(
    r"recipient preferences|user reject|message filtered|refuses? to (?:accept|receive)"
    r"|blocked by the recipient|only accepting mail from|rejected due to user rules",
    re.IGNORECASE,
)
#: "Diagnostic-Code: X-Unix; …": a local delivery program (procmail, a pipe) failed.
_LOCAL_MAILER = re.compile(r"\s*x-unix\s*;", re.IGNORECASE)
#: Reasons read when no address reason was found, in this order.
_OTHER = _patterns(
    ("rejected", r"sender (?:address )?(?:was )?rejected|domain of sender|sender domain"
                 r"|sender verif|bad sender|envelope sender"),
    ("hostunknown", r"host (?:or domain name )?not found|domain (?:not found|does not exist"
                    r"|name not found|is not reachable)|no such domain|unrouteable (?:mail )?"
                    r"domain|name service error|nxdomain|unknown domain|host unknown|no mx"
                    r"|domain .{0,40}does not accept mail|unresolvable"),
    ("notaccept", r"null mx|no smtp service|does not accept (?:any )?mail"),
    ("authfailure", r"\bspf\b|dkim|dmarc|authenticat|not authorized|unauthenticated"),
    ("spamdetected", r"spam|junk|unsolicited|content (?:was )?rejected|virus|malware"),
    ("blocked", r"block|blacklist|blocklist|denylist|\brbl\b|spamhaus|reputation"
                r"|\bptr\b|reverse dns|rdns|client host .{0,40}rejected|access denied"),
    ("ratelimit", r"rate limit|too many|try (?:again )?later|greylist|graylist|deferred"
                  r"|temporar|throttl|exceeded .{0,20}limit|timed? ?out|expired"
                  r"|connection (?:refused|reset)|delayed"),
    ("policy", r"policy|not permitted|prohibited"),
)
_RATELIMIT = dict(_OTHER)["ratelimit"]
#: SMTP commands as MTAs name them when quoting the rejection, in protocol order.
_COMMANDS = (
    ("MAIL", re.compile(r"\bMAIL FROM\b|\bin reply to MAIL\b|after MAIL\b")),
    ("RCPT", re.compile(r"\bRCPT(?:\b|_TO)|after RCPT\b", re.IGNORECASE)),
    ("DATA", re.compile(r"\bDATA\b|end of data\b|after data\b", re.IGNORECASE)),
)


def command(text: str) -> str | None:
    """The last SMTP command of the session the bounce quotes ("in reply to RCPT TO
    command", ">>> DATA", Exim's "after end of data"), or None when it says none."""
    found = None
    for name, pattern in _COMMANDS:
        if pattern.search(text):
            found = name
    return found


def _detail(status: str | None) -> str:
    """"1.1" of 5.1.1: what the code is about, whatever its class."""
    return status.partition(".")[2] if status else ""


def status_reason(status: str | None) -> str | None:
    return _STATUS_REASONS.get(_detail(status))


def reason(status: str | None, text: str, stage: str | None) -> str | None:
    """The bounce reason from the status, the mailer's words and the SMTP command they
    answered (see the module doc)."""
    text = " ".join(text.split())  # diagnostics arrive folded and wrapped
    for name, pattern in _OVERRIDING:
        if pattern.search(text):
            return name
    by_status = status_reason(status)
    if by_status == "rejected" or stage == "MAIL":
        return "rejected"  # our own address was refused (5.1.7, 5.1.8, at MAIL FROM)
    if _LOCAL_MAILER.match(text):
        return "mailererror"  # the address exists; its delivery program failed
    # 5.1.x is about the recipient's address (5.1.7 and 5.1.8, the sender's, went above)
    addressing = _detail(status).startswith("1.") and by_status != "systemerror"
    if _FILTERED.search(text):
        return "filtered"
    if _USER_UNKNOWN.search(text):
        if addressing or stage == "RCPT":
            return "userunknown"
        if stage == "DATA" or by_status == "filtered":
            return "filtered"  # after DATA, or with a mailbox status: a filter said it
        return "userunknown"  # no stage nor status says otherwise: take the words
    if status and status.startswith("4"):
        return "ratelimit" if _RATELIMIT.search(text) else "temporary"
    for name, pattern in _OTHER:
        if pattern.search(text):
            return name
    return by_status


def is_hard(reason_name: str | None, permanent: bool, status: str | None) -> bool:
    """A dead address or domain, reported as permanent (or with no status at all)."""
    return reason_name in HARD_REASONS and (permanent or status is None)
