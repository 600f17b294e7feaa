"""strip_reply rules, one at a time (the corpus covers them inside whole mails)."""

from __future__ import annotations

import pytest

from connectors.email.quotes import strip_reply


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, 2 Mar 2026 at 10:00, Support <s@example.org> wrote:",
        "On Mon, 2 Mar 2026 at 10:00, Support <\ns@example.org> wrote:",
        "Le lun. 2 mars 2026 à 10:00, Support <s@example.org> a écrit :",
        "Le 2 mars 2026 à 10:00, Support <s@example.org> a\u00a0écrit\u00a0:",
        "Op ma 2 mrt 2026 om 10:00 schreef Support <s@example.org>:",
        "Op 2 mrt. 2026, om 10:00 heeft Support <s@example.org> het volgende geschreven:",
        "Am Mo., 2. März 2026 um 10:00 Uhr schrieb Support <s@example.org>:",
        "Am 02.03.2026 um 10:00 schrieb Support\n<s@example.org>:",
    ],
)
def test_attribution_and_quote_are_removed(attribution: str) -> None:
    text = f"New text here.\n\n{attribution}\n> old text\n> more old text\n"
    assert strip_reply(text) == "New text here."


@pytest.mark.parametrize(
    "block",
    [
        "From: Support <s@example.org>\nSent: Monday, March 2, 2026 10:00 AM\nTo: A\nSubject: x",
        "De : Support <s@example.org>\nEnvoyé : lundi 2 mars 2026 10:00\nÀ : A\nObjet : RE: x",
        "Van: Support <s@example.org>\nVerzonden: maandag 2 maart 2026 10:00\nAan: A",
        "Von: Support <s@example.org>\nGesendet: Montag, 2. März 2026 10:00\nAn: A",
        "________________________________\nFrom: Support\nSent: Monday\nTo: A",
        "-----Original Message-----\nFrom: Support\nSent: Monday",
        "-----Message d'origine-----\nDe : Support",
        "-----Oorspronkelijk bericht-----\nVan: Support",
        "-----Ursprüngliche Nachricht-----\nVon: Support",
    ],
)
def test_outlook_history_blocks_cut_everything_below(block: str) -> None:
    text = f"Please call me back.\n\n{block}\n\nOld message body.\n"
    assert strip_reply(text) == "Please call me back."


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Envoyé de mon iPhone",
        "Verzonden vanaf mijn iPhone",
        "Von meinem iPhone gesendet",
        "Get Outlook for Android",
    ],
)
def test_mobile_footers_are_removed(footer: str) -> None:
    assert strip_reply(f"Ok, thanks!\n\n{footer}") == "Ok, thanks!"


def test_signature_separator_cuts_to_the_end() -> None:
    assert strip_reply("Works now.\n\n-- \nAlice\n+32 2 123 45 67") == "Works now."


def test_mail_that_is_only_a_quote_gives_empty_text() -> None:
    assert strip_reply("On Mon, 2 Mar 2026 at 10:00, S <s@example.org> wrote:\n> hello\n") == ""
    assert strip_reply("> just a quote\n> nothing else\n") == ""


def test_inline_answers_below_quotes_are_kept() -> None:
    text = (
        "On Mon, 2 Mar 2026 at 10:00, S <s@example.org> wrote:\n"
        "> Which colour?\n\nBlue.\n\n> Which size?\n\nLarge.\n"
    )
    assert strip_reply(text) == "Blue.\n\nLarge."


def test_text_that_merely_starts_with_on_is_not_an_attribution() -> None:
    text = "On Friday the app crashed\nwhen I wrote:\n\nit failed."
    assert strip_reply(text) == text


def test_forward_without_comment_keeps_the_forwarded_mail() -> None:
    text = "---------- Forwarded message ---------\nFrom: Bank\n\nPayment refused."
    assert strip_reply(text) == text


def test_forward_with_comment_keeps_only_the_comment() -> None:
    text = "What is this?\n\nBegin forwarded message:\n\nFrom: Bank\nPayment refused."
    assert strip_reply(text) == "What is this?"


def test_crlf_input_is_normalised() -> None:
    assert strip_reply("Yes.\r\n\r\nOn Mon, 2 Mar 2026, S wrote:\r\n> q\r\n") == "Yes."


@pytest.mark.parametrize(
    "attribution",
    [
        "Le 28/10/2021 12:46, « Support » <s@example.org> a écrit :",
        "On 3/20/14, 8:48 AM, \"Support\" <s@example.org> wrote:",
        "Support <s@example.org> schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:",
        "2014-03-20 8:48 GMT+01:00 Support <s@example.org>:",
        "On Tue, Apr 11, 2017 at 10:07 PM Support <s@example.org>wrote:",
        "Op 13-02-2014 3:18 schreef Support <s@example.org>:",
    ],
)
def test_unquoted_or_indented_history_below_an_attribution_is_cut(attribution: str) -> None:
    """Outlook for Mac indents the original, mobile mailers do not quote it at all."""
    for original in ("Your order shipped.\nRegards", "    Your order shipped.\n    Regards"):
        text = f"Where is it now?\n\n{attribution}\n\n{original}\n"
        assert strip_reply(text) == "Where is it now?"


@pytest.mark.parametrize(
    "block",
    [
        "   ----- Message transmis ----- De : Support <s@example.org>À : a@example.org"
        "Envoyé : mardi 2 novembre 2021, 09:26:50 UTC+1Objet : x\n Old text",
        "----- Forwarded Message ----- From: Support <s@example.org>To: a@example.org\nOld",
        "====\n\nMessage du : 12/12/2016 13:20\nDe : \"Support\" <s@example.org>\nA : a@x.fr\n"
        "Copie à : \nSujet : x\n\nOld text",
        "Envoyé le : lundi 2 mars 2026 10:00\nDe : Support <s@example.org>\nÀ : a@x.fr\nOld",
        "-------- Přeposlaná zpráva --------\nPředmět: x\nDatum: Wed, 3 Nov 2021\nOd: "
        "Support <s@example.org>\n\nOld text",
        "Fra: Support <s@example.org>\nDato: torsdag, 28. oktober 2021 kl. 12.06\nTil: a\nOld",
    ],
)
def test_forward_and_header_blocks_in_other_shapes_cut_everything_below(block: str) -> None:
    assert strip_reply(f"Please see below.\n\n{block}\n") == "Please see below."


def test_a_title_between_dashes_alone_is_not_history() -> None:
    text = "Question?\n\n------ Enter Feedback Below ------\n\nIt was great."
    assert strip_reply(text) == text


@pytest.mark.parametrize(
    "footer",
    ["Sent from Mailbox", "Sent with Airmail", "Envoyé à partir de Outlook pour iOS<https://x>",
     "Diese Nachricht wurde von meinem Android-Mobiltelefon mit K-9 Mail gesendet."],
)
def test_a_footer_ends_the_new_text_even_with_unmarked_history_below(footer: str) -> None:
    assert strip_reply(f"Ok, thanks!\n\n{footer}\n\nHi there, old text") == "Ok, thanks!"


@pytest.mark.parametrize(
    "sentence",
    ["Sent from my desk, is much easier than my mobile phone.",
     "Sent with the documents you asked for."],
)
def test_sentences_that_look_like_footers_are_kept(sentence: str) -> None:
    assert strip_reply(f"Here it is.\n\n{sentence}") == f"Here it is.\n\n{sentence}"


@pytest.mark.parametrize("joint", [" ", "--- "])
def test_an_attribution_sharing_the_reply_line_is_cut_there(joint: str) -> None:
    text = f"reply{joint}On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:\n> Hi"
    assert strip_reply(text) == "reply"


def test_a_line_before_a_wrapped_attribution_stays() -> None:
    text = 'Hello\n02.04.2012 14:20 user "bob@example.org" <\nbob@example.org> написал:\n\n> Hi'
    assert strip_reply(text) == "Hello"


def test_a_short_block_below_a_rule_is_a_signature() -> None:
    text = "Thanks!\nSarah\n\n—————\nSarah Johnson\nProduct Manager\n+1 555-0123"
    assert strip_reply(text) == "Thanks!\nSarah"


@pytest.mark.parametrize(
    "attribution",
    [
        "---- On Wed, 24 Feb 2021 14:02:50 +0530 support@example.org wrote ----",
        "---- Support wrote ----",
        "On Wed, 14 Nov 2018 08:14:43 -0200 Support <s@example.org> wrote",
        "On Tue, Apr 11, 2017 at 10:07 PM Support\n<\nmailto:Support <s@example.org>\n> wrote:",
    ],
)
def test_dashed_colonless_and_split_attributions_cut_the_history(attribution: str) -> None:
    assert strip_reply(f"Test reply\n{attribution}\nOld text\n> older") == "Test reply"


def test_a_dated_address_line_right_above_quotes_is_an_attribution() -> None:
    assert strip_reply("Replying ok\n2011/4/7 Support <s@example.org>\n>  Old") == "Replying ok"


def test_a_dash_name_signature_and_list_footer_are_cut() -> None:
    text = ("Having the function would be great.\n-Abhishek\n__\nriak-users mailing list\n"
            "riak-users@lists.example.org\nhttp://lists.example.org/mailman/listinfo/riak")
    assert strip_reply(text) == "Having the function would be great."


def test_separators_followed_by_sentences_are_text() -> None:
    text = "Analysis:\n----\n1. Faster\n----\nThe dashes are formatting.\n====\nThese are mine too."
    assert strip_reply(text) == text


def test_an_original_with_nothing_above_its_attribution_is_the_message_kept_whole() -> None:
    # A mailing list or a mobile mailer hands over a mail as an embedded original: it is
    # what the customer is telling us, its own quotes and inline answers included.
    text = ("On 15 May 2017 19:32, \"Ann\" <ann@example.org> wrote:\n\nThe first value was nil.\n\n"
            "On 8 May 2017 6:51 pm, \"Bob\" <bob@example.org> wrote:\n\n> It should be:\n"
            ">     2.0 && 2.0 + 12.0\n>\n> Ah! Yes, that works.\n\nPeople miss the point.\n")
    assert strip_reply(text) == ("The first value was nil.\n\n> It should be:\n"
                                 ">     2.0 && 2.0 + 12.0\n>\n> Ah! Yes, that works.\n\n"
                                 "People miss the point.")


def test_arrows_pointing_at_a_link_are_text_not_a_quote() -> None:
    text = "Visit us now for assistance...\n>>> >>>  http://www.example.com <<<\nClick above\n"
    assert strip_reply(text) == text.strip()
