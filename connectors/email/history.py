"""Recognise the lines where quoted history starts in a reply, in any common mailer's shape.

Each test looks at one line, or at most three joined lines, and gives up on lines longer
than `MAX_MARKER_LINE`: history markers are short, and bounding the input keeps every
regular expression here linear in the size of the mail (a 100 KB line costs nothing).
The vocabulary covers the attribution verbs, header names and forward titles of the
mailers in the languages the gateway serves and their neighbours; the structure (a date,
an address, a colon at the end, a block of header lines) does the rest.
"""

from __future__ import annotations

import re

#: Longer lines are prose, never a marker.
MAX_MARKER_LINE = 600
#: An attribution wrapped by the mailer spans at most this many lines.
ATTRIBUTION_LINES = 4

_VERBS = (
    "wrote", "writes", "a écrit", "écrit", "schreef", "geschreven", "schrieb", "escribió",
    "escribio", "escreveu", "ha scritto", "scrisse", "napisał", "napisała", "napsal",
    "napsala", "napísal", "skrev", "kirjoitti", "írta", "написал", "написала", "написав",
    "пише", "a scris", "yazdı", "đã viết", "写道", "寫道", "작성", "skriver", "schreibt",
)
_VERB = re.compile(
    r"(?:^|[\s>\"'»)\]])(?:" + "|".join(re.escape(v) for v in _VERBS) + r")(?=[\s:]|$)",
    re.IGNORECASE,
)
_TIME = re.compile(r"\d{1,2}[:h.]\d{2}")
_DATE_FIRST = re.compile(r"^\s*\d{1,4}[-./]\d{1,2}[-./]\d{1,4}")
_ENDS_WITH_COLON = re.compile(r":\s*$")
_START = re.compile(r"^\s*(?:On|Le|Op|Am|El|Il|Em|Den|På|W dniu)\s", re.IGNORECASE)
_ENDS_WITH_VERB = re.compile(
    r"\s(?:" + "|".join(re.escape(v) for v in _VERBS) + r")\s*$", re.IGNORECASE)

_FROM_KEYS = (
    "from", "de", "van", "von", "da", "od", "fra", "från", "mittente", "remitente", "от",
    "kimden", "feladó", "lähettäjä", "šalje", "odesílatel", "afsender", "avsender", "nadawca",
    "expéditeur", "message du", "发件人", "差出人", "보낸 사람", "від", "gönderen",
)
_OTHER_KEYS = (
    "sent", "date", "to", "cc", "bcc", "subject", "reply-to", "envoyé", "envoyé le", "à", "a",
    "objet", "sujet", "copie à", "répondre à", "aan", "verzonden", "onderwerp", "datum",
    "gesendet", "an", "betreff", "kopie", "sendt", "til", "emne", "skickat", "till", "ämne",
    "kopia", "wysłano", "do", "temat", "data", "inviato", "oggetto", "enviado", "enviada",
    "para", "asunto", "fecha", "assunto", "komu", "předmět", "odesláno", "lähetetty",
    "vastaanottaja", "aihe", "päiväys", "отправлено", "кому", "тема", "дата", "копия",
    "gönderildi", "kime", "konu", "tarih", "elküldve", "címzett", "tárgy", "dátum", "naslov",
    "prima", "poslano", "poslané", "predmet", "trimis", "către", "subiect", "gesendet am",
    "发送时间", "收件人", "主题", "日付", "宛先", "件名", "送信日時", "dato", "päivämäärä",
    "kopio", "від", "копія", "kopi", "kopie", "data wysłania", "enviado el", "odesláno",
)
_KEYS = sorted({*_FROM_KEYS, *_OTHER_KEYS}, key=len, reverse=True)
_HEADER = re.compile(
    r"^\s*[*_]{0,2}(" + "|".join(re.escape(k) for k in _KEYS) + r")[*_]{0,2}[ \t]?:",
    re.IGNORECASE,
)
#: Any other "Name: value" line may sit inside a block (a header name we do not know).
_OTHER_HEADER = re.compile(r"^\s*[*_]{0,2}[^\W\d_][\w .'-]{0,30}[*_]{0,2}[ \t]?:(?:[ \t]|$)")
#: A header block is this many lines long at most (From, Sent, To, Cc, Subject + a wrap).
HEADER_SPAN = 7

_ORIGINAL_TITLES = (
    "original message", "reply message", "message d'origine", "message original",
    "oorspronkelijk bericht", "ursprüngliche nachricht", "originalnachricht",
    "antwort nachricht", "oprindelig meddelelse", "opprinnelig melding",
    "ursprungligt meddelande", "alkuperäinen viesti", "mensaje original",
    "messaggio originale", "mensagem original", "wiadomość oryginalna", "původní zpráva",
    "pôvodná správa", "исходное сообщение", "eredeti üzenet", "orijinal mesaj",
    "mesaj original", "izvorna poruka", "původní e-mail",
)
#: "-----Original Message-----", "---------- Forwarded message ---------" and the like:
#: a short title between runs of dashes at the start of a line (the rest of the line may
#: hold Yahoo's one-line header block).
_DASHED_TITLE = re.compile(r"^\s*[-–—]{2,}[ \t]*([^-–—\n]{3,200}?)[ \t]*[-–—]{2,}")
_FORWARD_INTRO = re.compile(
    r"^\s*(?:begin forwarded message|début du message réexpédié|begin doorgestuurd bericht"
    r"|anfang der weitergeleiteten nachricht|inizio messaggio inoltrato"
    r"|comienzo del mensaje reenviado|início da mensagem reencaminhada"
    r"|začátek přeposílané zprávy|videresendt meddelelse|vidarebefordrat mejl"
    r"|начало переадресованного сообщения|forwarded message)[ \t]*:",
    re.IGNORECASE,
)
RULE = re.compile(r"^\s*(?:_{2,}|-{5,}|—{3,}|={4,}|\*{5,})\s*$")
#: "-Abhishek Kona", "--rick": a name right after dashes, the old signature habit.
DASH_NAME = re.compile(r"^\s*-{1,2}[^\W\d_][\w.'’-]{0,30}(?: [\w.'’-]{1,30}){0,3}\s*$")
SIGNATURE = re.compile(r"^-- ?$")

_FOOTER_VERB = (
    r"(?:sent|envoyé|verzonden|verstuurd|gesendet|enviado|inviato|wysłane|skickat|sendt"
    r"|lähetetty|отправлено|odesláno|get|obtenir|download)"
)
_FOOTER_PREP = (
    r"(?:from|with|via|using|on|for|de|depuis|à partir de|avec|vanaf|met|von|mit|über|desde"
    r"|con|da|z|från|med|fra|из|с)"
)
_FOOTER = re.compile(
    rf"^\s*{_FOOTER_VERB}\s+{_FOOTER_PREP}\s+([^<>()\n]{{1,60}}?)\s*"
    r"(?:<[^<>\s]{1,300}>|\([^()\s]{1,300}\))?\s*\.?\s*$",
    re.IGNORECASE,
)
_FOOTER_DE = re.compile(r"^\s*(?:[^,;:\n]{0,80}\s)?(?:von|mit)\s[^,;:\n]{1,60}\sgesendet\.?\s*$",
                        re.IGNORECASE)
_OUTLOOK_APP = re.compile(r"^\s*get outlook for (?:ios|android)\b.{0,300}$", re.IGNORECASE)
#: A footer names a device or an app in a few words: "Sent from my desk, is much easier
#: than my mobile phone." is a sentence, not a footer.
_FOOTER_WORDS = 5
#: ... and begins with "my" or names something with a capital ("Mailbox", "Outlook").
_POSSESSIVES = {"my", "mon", "ma", "mijn", "meinem", "mi", "mio", "mój", "moim", "min", "mitt",
                "meu", "minha", "mé", "мой", "моего"}


def is_quoted(line: str) -> bool:
    stripped = line.strip()
    if not stripped.startswith(">"):
        return False
    if stripped.startswith(">>") and stripped.endswith("<<"):
        # ">>> http://example.com <<<": arrows pointing at a link, a decoration, not a quote
        inner = stripped.lstrip("> \t").rstrip("< \t")
        return not inner or "<" in inner or ">" in inner
    return True


def _short(line: str) -> bool:
    return len(line) <= MAX_MARKER_LINE


def is_attribution_text(text: str) -> bool:
    """'On <date>, Bob <b@x> wrote:' in any language, or Gmail's '<date> Name <addr>:'."""
    if not _short(text):
        return False
    if not _ENDS_WITH_COLON.search(text):
        # "On Wed, 14 Nov 2018 08:14:43 -0200 John Doe <john@doe.com> wrote", no colon.
        return (_START.match(text) is not None and _ENDS_WITH_VERB.search(text) is not None
                and any(ch.isdigit() for ch in text))
    if _VERB.search(text):
        return any(ch.isdigit() for ch in text)
    # No verb: a date or time and an address, ending "…<addr>:" (Gmail, Yandex, mail.ru).
    return "@" in text and (_TIME.search(text) is not None or _DATE_FIRST.match(text) is not None)


def attribution_span(lines: list[str], i: int) -> int:
    """How many lines (1-3) the attribution starting at line i spans, or 0."""
    first = lines[i]
    if not first.strip() or is_quoted(first) or not _short(first):
        return 0
    joined = ""
    for span in range(1, ATTRIBUTION_LINES + 1):
        if i + span > len(lines):
            break
        line = lines[i + span - 1]
        if not line.strip() or not _short(line):
            break
        if span > 1 and is_quoted(line):
            line = line.lstrip().lstrip(">")  # "> wrote:" closing a wrapped "<addr" part
            if len(line.split()) > 2:
                break
        joined = f"{joined} {line.strip()}".strip()
        if is_attribution_text(joined):
            tail = line.strip()
            if span > 1 and (first.rstrip().endswith((".", "!", "?"))
                             or not any(ch.isdigit() for ch in first)
                             or (is_attribution_text(tail) and _START.match(tail))):
                return 0  # the attribution starts later; line i is the customer's
            return span
    # Gmail without the colon: "2011/4/7 Name <addr>" directly above the quote.
    if (_DATE_FIRST.match(first) and "@" in first and i + 1 < len(lines)
            and is_quoted(lines[i + 1])):
        return 1
    return 0


_INLINE_START = re.compile(r"\s(?:On|Le|Op|Am|El|Il|Em|Den|På|W dniu)\s")


def attribution_inside(line: str) -> int | None:
    """Where an attribution begins in the middle of a line ("reply On … wrote:"), or None."""
    if not _short(line) or is_quoted(line) or not _ENDS_WITH_COLON.search(line):
        return None
    for match in _INLINE_START.finditer(line):
        if is_attribution_text(line[match.start() + 1 :]):
            return match.start()
    return None


def header_block_at(lines: list[str], i: int) -> bool:
    """A block of mail header lines ('From: … Sent: … To: … Subject: …') starts at line i."""
    first = lines[i]
    if not _short(first):
        return False
    match = _HEADER.match(first)
    if match is None:
        return False
    keys = {match.group(1).lower()}
    has_address = "@" in first
    for line in lines[i + 1 : i + HEADER_SPAN]:
        if not line.strip():
            continue
        if not _short(line):
            break
        found = _HEADER.match(line)
        if found is not None:
            keys.add(found.group(1).lower())
        elif _OTHER_HEADER.match(line) is None:
            break
        has_address |= "@" in line
    if len(keys) >= 3:
        return True
    return len(keys) == 2 and (has_address or bool(keys & set(_FROM_KEYS)))


def dashed_title(line: str) -> str | None:
    """The lower-cased title of a '-----Original Message-----'-style line, or None."""
    if not _short(line):
        return None
    match = _DASHED_TITLE.match(line)
    return match.group(1).strip().lower() if match else None


_FORWARD_WORDS = (
    "forward", "transféré", "transmis", "doorgestuurd", "weitergeleitet", "inoltrato",
    "reenviado", "encaminhad", "reencaminhad", "přeposlan", "preposlan", "proslijeđen",
    "videresend", "vidarebefordra", "välitetty", "przekazan", "пересыла", "továbbított",
    "iletilen", "redirecționat", "転送", "转发", "전달",
)


def title_kind(title: str) -> str | None:
    """"original" or "forward" for a known dashed title, None for any other text."""
    if any(original in title for original in _ORIGINAL_TITLES):
        return "original"
    if any(word in title for word in _FORWARD_WORDS):
        return "forward"
    if _VERB.search(title):  # "---- On Tue, 22 Dec 2015 … Sam wrote ----" (Zoho, Android)
        return "original"
    return None


def is_forward_intro(line: str) -> bool:
    return _short(line) and _FORWARD_INTRO.match(line) is not None


def is_mobile_footer(line: str) -> bool:
    """'Sent from my iPhone', 'Envoyé à partir de Outlook pour iOS<url>', 'Von meinem
    iPhone gesendet', '…mit K-9 Mail gesendet.': a short line naming a device or app."""
    if len(line) > 200:
        return False
    match = _FOOTER.match(line)
    if match is not None:
        device = match.group(1).split()
        return ("," not in match.group(1) and len(device) <= _FOOTER_WORDS
                and (device[0].lower() in _POSSESSIVES
                     or any(ch.isupper() or ch.isdigit() for ch in "".join(device))))
    if _OUTLOOK_APP.match(line):
        return True
    return _FOOTER_DE.match(line) is not None and len(line.split()) <= 2 * _FOOTER_WORDS
