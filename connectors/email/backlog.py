"""How far behind the mailbox loop is: mails waiting above the position, and for how long.

After every listing of the UIDs above the position (`UID SEARCH UID n:*`, before each
window of a catch-up) the loop tells `Backlog.listed`; each commit of the position
(`advanced`) shrinks what is waiting. `behind` is how many listed mails are still above
the position; `oldest_waiting` is for how long the lowest of them has been **known to
this process**: the gateway's own monotonic clock from the first listing that showed a
UID at least as high.

Why not the mail's INTERNALDATE: it is the mail server's clock (a server minutes off, or
in another time zone misconfigured, makes every mail look late or early), and it is when
the mail reached the *server*, not when it became the loop's to take in: a mail moved or
restored into the mailbox keeps its old date, a mailbox rescanned after a UIDVALIDITY
change is full of week-old mail, and mail that waited during an IMAP outage or while
another replica held the lease is not this reader's delay. Any of these would show a
healthy loop as hours behind. The INTERNALDATE of the oldest waiting mail is still
reported (`oldest_internal_date`), for a person to compare. The price of the local
clock: a restart counts again from the first listing after it, and in polling mode a
mail is first seen up to `poll_interval` after it arrived (the staleness check, not this
figure, covers a loop that never lists).

Nothing here is per UID except the last listing (at most one list of ints); the "first
seen" record is one (highest UID, time) pair per listing that found something new,
dropped once the position passed it.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable
from datetime import datetime


class Backlog:
    """The waiting mails of one mailbox, as far as the last listing knows."""

    def __init__(self) -> None:
        self.uidvalidity: int | None = None
        #: Sorted UIDs above the position at the last listing (None: never listed).
        self._uids: list[int] | None = None
        #: (highest UID listed, monotonic time of that listing), both increasing: every
        #: UID up to the first number was known at the second.
        self._seen: list[tuple[int, float]] = []
        #: INTERNALDATE of the mails of the current window (from its size listing).
        self._dates: dict[int, datetime] = {}
        self.position = 0
        #: Mails of the batch in hand already processed, their position not committed yet.
        self._done: set[int] = set()
        #: Monotonic time the position last moved or a mail was last taken in.
        self.last_taken_in: float | None = None

    def listed(self, uidvalidity: int, position: int, uids: Iterable[int],
               now: float | None = None) -> None:
        """A fresh list of every UID above `position`."""
        now = time.monotonic() if now is None else now
        if uidvalidity != self.uidvalidity:  # old UIDs mean nothing any more
            self.uidvalidity, self._seen, self._dates, self._done = uidvalidity, [], {}, set()
        self._uids = sorted(uid for uid in uids if uid > position)
        if self._uids and (not self._seen or self._uids[-1] > self._seen[-1][0]):
            self._seen.append((self._uids[-1], now))
        self._prune(position)

    def dated(self, dates: dict[int, datetime]) -> None:
        """INTERNALDATEs from a window's listing (informational, see the module)."""
        self._dates = {uid: date for uid, date in dates.items() if uid > self.position}

    def advanced(self, position: int, now: float | None = None) -> None:
        """The position was committed at `position` (mails up to it are done)."""
        self.last_taken_in = time.monotonic() if now is None else now
        self._prune(position)

    def taken_in(self, uid: int, now: float | None = None) -> None:
        """Mail `uid` was processed (stored or quarantined), its batch not committed yet."""
        self.last_taken_in = time.monotonic() if now is None else now
        self._done.add(uid)

    def _prune(self, position: int) -> None:
        self.position = position
        self._seen = [(uid, at) for uid, at in self._seen if uid > self.position]
        self._dates = {uid: d for uid, d in self._dates.items() if uid > self.position}
        self._done = {uid for uid in self._done if uid > position}

    def behind(self) -> int | None:
        """Mails listed and not yet taken in; None before the first listing."""
        if self._uids is None:
            return None
        above = len(self._uids) - bisect.bisect_right(self._uids, self.position)
        return above - len(self._done.intersection(self._uids))

    def oldest(self) -> int | None:
        """The lowest waiting UID."""
        if not self._uids:
            return None
        index = bisect.bisect_right(self._uids, self.position)
        return next((uid for uid in self._uids[index:] if uid not in self._done), None)

    def oldest_waiting(self, now: float | None = None) -> float:
        """Seconds the oldest waiting mail has been known to this process (0: none)."""
        uid = self.oldest()
        if uid is None:
            return 0.0
        now = time.monotonic() if now is None else now
        for highest, at in self._seen:
            if highest >= uid:
                return max(0.0, now - at)
        return 0.0  # listed before this process kept a record: cannot happen after prune

    def oldest_internal_date(self) -> datetime | None:
        uid = self.oldest()
        return self._dates.get(uid) if uid is not None else None

    def since_taken_in(self, now: float | None = None) -> float | None:
        if self.last_taken_in is None:
            return None
        return (time.monotonic() if now is None else now) - self.last_taken_in
