"""Greetings, thanks and goodbyes: answered politely instead of opening a ticket for "hello".

Only short messages that are nothing but such a phrase count; "hello, my bike is broken"
goes to the knowledge base like any question. The replies are texts `smalltalk_<kind>`
(gateway/texts.py), so an organisation can reword them like the bot's other sentences.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

SmallTalk = Literal["greeting", "thanks", "goodbye"]

_PHRASES: dict[SmallTalk, frozenset[str]] = {
    "greeting": frozenset({
        "hi", "hello", "hey", "hi there", "hello there", "good morning", "good afternoon",
        "good evening", "bonjour", "bonsoir", "salut", "coucou", "hallo", "hoi", "dag",
        "goedemorgen", "goedemiddag", "goedenavond", "goeiedag", "guten tag", "guten morgen",
        "guten abend", "moin", "servus", "gruss gott", "gruezi",
    }),
    "thanks": frozenset({
        "thanks", "thank you", "thx", "thanks a lot", "thank you very much", "great thanks",
        "ok thanks", "merci", "merci beaucoup", "merci bien", "super merci", "bedankt",
        "dank u", "dank je", "dank u wel", "dank je wel", "merci vriendelijk", "danke",
        "danke schon", "vielen dank", "ok merci", "ok bedankt", "ok danke",
    }),
    "goodbye": frozenset({
        "bye", "goodbye", "see you", "au revoir", "bonne journee", "tot ziens", "daag",
        "fijne dag", "auf wiedersehen", "tschuss", "schonen tag",
    }),
}

def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", letters).replace("ß", "ss").split())


def small_talk(text: str) -> SmallTalk | None:
    folded = _fold(text)
    if len(folded.split()) > 5:
        return None
    for kind, phrases in _PHRASES.items():
        if folded in phrases:
            return kind
    return None
