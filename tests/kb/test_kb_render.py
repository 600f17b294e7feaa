"""Answer placeholders: filled when known, neutral when missing, never code execution."""

from __future__ import annotations

from knowledge_base.render import KNOWN_PLACEHOLDERS, render_answer

CONTEXT = {"customer": {"name": "Ann", "email": "ann@example.com", "number": "C-7"},
           "company": {"name": "Velora", "phone": "+32 9 000 00 00"}, "ticket": {"id": 42}}


def test_known_placeholders_are_filled() -> None:
    text = "Hello {customer.name}, call {company.phone} about ticket {ticket.id}."
    assert render_answer(text, CONTEXT) == "Hello Ann, call +32 9 000 00 00 about ticket 42."
    assert "customer.email" in KNOWN_PLACEHOLDERS


def test_missing_values_read_naturally() -> None:
    assert render_answer("Hello {customer.name}, welcome!", {}) == "Hello, welcome!"
    assert render_answer("Bonjour {customer.name} !", {"customer": {"name": " "}}) == "Bonjour !"
    assert render_answer("The {company.name} team", {}) == "The our team team"


def test_unknown_and_malicious_placeholders_never_leak_or_execute() -> None:
    text = "{customer.__class__}{customer.name.__init__}{0}{x} {order.total} ok"
    rendered = render_answer(text, CONTEXT)
    assert "class" not in rendered and "Ann" not in rendered
    assert rendered.endswith("ok")
    assert render_answer("Plus d'infos : https://velora.be", {}) == (
        "Plus d'infos : https://velora.be")


def test_values_are_text_not_markdown() -> None:
    from gateway.markdown import to_safe_html

    name = "[Reset your password](https://evil.example) <b>x</b> **bold** ![i](https://e/i)"
    rendered = render_answer("Hello {customer.name}, welcome!", {"customer": {"name": name}})
    html = to_safe_html(rendered)
    assert "<a" not in html and "<img" not in html and "<strong>" not in html
    assert "[Reset your password](https://evil.example)" in html
    for value in ("www.evil.com", "ann@evil.com", "evil.com/login"):  # not linkified either
        html = to_safe_html(render_answer("Hi {customer.name}", {"customer": {"name": value}}))
        assert "<a" not in html and value in html, html
    # where a value starts a line it cannot make that line a list item or a heading
    for value, shown in (("1. Ann", "1. Ann"), ("- Ann", "- Ann"), ("# Ann", "# Ann"),
                         ("Ann\n\n# Evil", "Ann # Evil")):
        html = to_safe_html(render_answer("{customer.name}\nwelcome",
                                          {"customer": {"name": value}}))
        assert html.startswith(f"<p>{shown}<br"), (value, html)
    assert render_answer("Call {company.phone}", CONTEXT) == "Call +32 9 000 00 00"


def test_plain_text_channels_show_the_name_without_escapes() -> None:
    from connectors.slack.blocks import mrkdwn
    from knowledge_base.render import unescape_markdown

    name = "[Reset](https://evil.example) Jean-Pierre"
    rendered = render_answer("Hello {customer.name}, see [our page](https://velora.be).",
                             {"customer": {"name": name}})
    assert unescape_markdown(rendered) == (
        "Hello [Reset](https://evil.example) Jean-Pierre, see [our page](https://velora.be).")
    slack = mrkdwn(rendered)
    assert "<https://evil.example|" not in slack  # the name stays text in Slack too
    assert "<https://velora.be|our page>" in slack and "[Reset](https://evil.example)" in slack


def test_a_missing_name_between_commas_leaves_one_comma() -> None:
    assert render_answer("We're sorry, {customer.name}, that it is late.", {}) == (
        "We're sorry, that it is late.")
    assert render_answer("Merci, {customer.name}.", {}) == "Merci."
    assert render_answer("Sorry, {customer.name}, that", {"customer": {"name": "Ann"}}) == (
        "Sorry, Ann, that")


def test_bare_addresses_become_links_that_open_in_a_new_tab() -> None:
    from gateway.markdown import to_safe_html

    html = to_safe_html("Write to support@velora.be.")
    assert ('<a href="mailto:support@velora.be" target="_blank" rel="noopener noreferrer">'
            "support@velora.be</a>.") in html
