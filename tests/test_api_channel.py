"""The REST API channel, end to end through HTTP: the pipeline's decisions as a client sees them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import STORE
from tests.conftest import ALWAYS_OPEN, DEMO_KB


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Open around the clock: a conversation people own is silent (out of hours the bot says
    once that the message is on the ticket, tests/bot/test_rules.py)."""
    return make_settings(calendar=ALWAYS_OPEN)


async def post(client: TestClient, headers: dict[str, str], text: str, status: int = 201,
               **extra: Any) -> dict[str, Any]:
    body = {"customer": {"id": extra.pop("customer_id", "cust-1"), "name": "Ann Peeters"},
            "text": text, **extra}
    response = await client.post("/api/v1/messages", json=body, headers=headers)
    assert response.status == status, await response.text()
    return dict(await response.json())


async def test_requests_without_a_valid_key_are_refused(client: TestClient) -> None:
    response = await client.post("/api/v1/messages", json={},
                                 headers={"Authorization": "Bearer wrong"})
    assert response.status == 401
    assert (await response.json())["error"] == "missing or unknown API key"


async def test_known_question_gets_the_kb_answer(client: TestClient,
                                                 api_headers: dict[str, str]) -> None:
    result = await post(client, api_headers, "How long does delivery take?")
    (reply,) = result["replies"]
    assert reply["kind"] == "answer"
    assert reply["article_id"] == "delivery-time"
    assert reply["confidence"] > 0.5
    assert result["ticket_id"] is None


async def test_semantic_matcher_setting_answers_paraphrases(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str]) -> None:
    # "sign in" is in no example of password-reset: the light matcher hands it off, the
    # sentence embeddings answer it.
    settings = make_settings(knowledge_base={"path": str(DEMO_KB), "semantic": True})
    client = await aiohttp_client(create_app(settings))
    (reply,) = (await post(client, api_headers, "I cannot sign in"))["replies"]
    assert (reply["kind"], reply["article_id"]) == ("answer", "password-reset")


@pytest.mark.parametrize(("scope_check", "kind"), [(True, "handoff"), (False, "answer")])
async def test_a_question_about_another_companys_account_is_handed_off(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str], scope_check: bool, kind: str) -> None:
    # "password" alone made the closed-set matcher answer with the KB's password article
    settings = make_settings(knowledge_base={"path": str(DEMO_KB), "scope_check": scope_check})
    client = await aiohttp_client(create_app(settings))
    reply = (await post(client, api_headers, "I forgot my gmail password"))["replies"][0]
    assert reply["kind"] == kind


async def test_answer_comes_in_the_customers_language(client: TestClient,
                                                      api_headers: dict[str, str]) -> None:
    dutch = await post(client, api_headers, "Hoe lang duurt de levering van mijn fiets?",
                       customer_id="nl-1")
    french = await post(client, api_headers, "Combien de temps prend la livraison ?",
                        customer_id="fr-1")
    conversation = await client.get(f"/api/v1/conversations/{dutch['conversation_id']}",
                                    headers=api_headers)
    assert (await conversation.json())["language"] == "nl"
    assert dutch["replies"][0]["article_id"] == french["replies"][0]["article_id"] == \
        "delivery-time"
    assert dutch["replies"][0]["text"] != french["replies"][0]["text"]


async def test_asking_for_a_human_opens_a_ticket(client: TestClient,
                                                 api_headers: dict[str, str]) -> None:
    result = await post(client, api_headers, "Je veux parler à un conseiller humain",
                        customer_id="fr-2")
    (reply,) = result["replies"]
    assert reply["kind"] == "handoff"
    assert result["ticket_id"] is not None
    assert f"{result['ticket_id']}" in reply["text"] and "collègue" in reply["text"]


async def test_an_angry_customer_is_not_thanked(client: TestClient,
                                               api_headers: dict[str, str]) -> None:
    result = await post(client, api_headers,
                        "THIS IS UNACCEPTABLE!!! My bike is three weeks late!!!",
                        customer_id="en-angry")
    (reply,) = result["replies"]
    assert reply["kind"] == "handoff" and result["ticket_id"] is not None
    assert not reply["text"].startswith("Thank you")
    assert reply["text"].startswith("I am sorry") and f"{result['ticket_id']}" in reply["text"]


@pytest.mark.parametrize(("text", "opening"), [
    ("This is ridiculous. Can I bring my dog to the shop?", "I am sorry for the trouble."),
    ("Dit is belachelijk. Mag mijn hond mee in de winkel?", "Sorry voor het ongemak."),
])
async def test_a_displeased_customers_hand_off_does_not_thank_them(
        client: TestClient, api_headers: dict[str, str], text: str, opening: str) -> None:
    # Not angry enough to be handed off urgently before the KB is asked, but the KB's
    # ordinary hand-off must not begin "Thank you." / "Bedankt." either.
    result = await post(client, api_headers, text, customer_id="displeased")
    (reply,) = result["replies"]
    assert reply["kind"] == "handoff" and result["ticket_id"] is not None
    assert reply["text"].startswith(opening), reply["text"]
    calm = await post(client, api_headers, "Can I bring my dog to the shop?",
                      customer_id="calm", language="en")
    assert calm["replies"][0]["text"].startswith("Thank you.")


@pytest.mark.parametrize(("text", "not_opening"), [
    ("Ik ben woedend, ik wil nu een medewerker", "Bedankt"),
    ("Je suis furieux, c'est une honte", "Merci"),
    ("Das ist eine Schande, ich bin sehr enttäuscht", "Danke"),
    ("C'EST INADMISSIBLE !!! Ma commande n'est toujours pas là", "Merci"),
])
async def test_anger_in_every_language_is_heard(
        client: TestClient, api_headers: dict[str, str], text: str, not_opening: str) -> None:
    # Words of anger the signals did not know ("woedend", "furieux", "honte", "Schande",
    # "inadmissible") scored 0, so these customers were thanked or answered by the KB.
    result = await post(client, api_headers, text, customer_id="angry-" + not_opening)
    (reply,) = result["replies"]
    assert reply["kind"] == "handoff" and result["ticket_id"] is not None, reply
    assert not reply["text"].startswith(not_opening), reply["text"]


async def test_asking_for_someone_on_the_line_in_dutch_is_a_request_for_a_person(
        client: TestClient, api_headers: dict[str, str]) -> None:
    result = await post(client, api_headers, "Kan ik iemand aan de lijn krijgen?",
                        customer_id="nl-lijn")
    (reply,) = result["replies"]
    assert reply["kind"] == "handoff" and result["ticket_id"] is not None
    assert reply["text"].startswith("Natuurlijk."), reply["text"]


async def test_asking_for_a_person_in_dutch_gets_the_dutch_reply_for_it(
        client: TestClient, api_headers: dict[str, str]) -> None:
    result = await post(client, api_headers, "Ik wil een persoon spreken", customer_id="nl-p")
    (reply,) = result["replies"]
    assert reply["kind"] == "handoff" and result["ticket_id"] is not None
    assert reply["text"] == ("Natuurlijk. Een collega neemt dit gesprek over en antwoordt u"
                             f" hier (ticket #{result['ticket_id']}).")


async def test_hallo_on_an_english_desk_is_answered_in_dutch(
        client: TestClient, api_headers: dict[str, str]) -> None:
    # The desk's default is English; "hallo" is Dutch (or German), never English.
    result = await post(client, api_headers, "hallo", customer_id="nl-hallo")
    assert result["replies"][0]["text"] == "Hallo! Waarmee kan ik u helpen?"
    assert result["ticket_id"] is None


async def test_out_of_scope_question_is_handed_off_with_the_bots_attempts(
        client: TestClient, api_headers: dict[str, str]) -> None:
    result = await post(client, api_headers,
                        "What is the capital of Mongolia and its population?")
    assert result["replies"][0]["kind"] == "handoff"
    ticket = await client.app[STORE].get_ticket(result["ticket_id"])
    assert ticket is not None and ticket.status == "new"
    assert ticket.bot_attempts[0]["reason"] == "no confident answer"
    candidates = ticket.bot_attempts[1]["candidates"]
    assert candidates and all(0 <= c["confidence"] <= 1 for c in candidates)


async def test_each_question_of_a_message_gets_its_answer(
        client: TestClient, api_headers: dict[str, str]) -> None:
    result = await post(client, api_headers,
                        "How long does delivery take and can I pay with Bancontact?")
    assert [(r["kind"], r["article_id"]) for r in result["replies"]] == [
        ("answer", "delivery-time"), ("answer", "payment-methods")]
    assert result["ticket_id"] is None


async def test_questions_listed_with_commas_each_get_their_answer(
        client: TestClient, api_headers: dict[str, str]) -> None:
    result = await post(client, api_headers, "Hoe lang duurt de levering, kan ik met Bancontact"
                        " betalen en hebben jullie een winkel in Gent?", customer_id="nl-list")
    assert [(r["kind"], r["article_id"]) for r in result["replies"]] == [
        ("answer", "delivery-time"), ("answer", "payment-methods"),
        ("answer", "opening-hours-shops")]
    assert result["ticket_id"] is None


async def test_the_question_the_kb_cannot_answer_goes_to_a_colleague(
        client: TestClient, api_headers: dict[str, str]) -> None:
    result = await post(client, api_headers,
                        "How long does delivery take? And can I bring my dog to the shop?")
    answer, handoff = result["replies"]
    assert (answer["kind"], answer["article_id"]) == ("answer", "delivery-time")
    assert handoff["kind"] == "handoff" and "other question" in handoff["text"]
    ticket = await client.app[STORE].get_ticket(result["ticket_id"])
    assert ticket is not None
    assert ticket.bot_attempts[0]["reason"] == "1 of 2 questions not answered"


async def test_the_question_of_a_long_story_is_answered(
        client: TestClient, api_headers: dict[str, str]) -> None:
    story = ("Hello, last month I ordered a Velora Stad from your webshop and it was delivered"
             " two days late, which was annoying because I had taken a day off work to wait for"
             " it, and the delivery man was quite rude too, but anyway the bike itself is lovely"
             " and my daughter rides it to school every day. Now the brakes make a little noise"
             " and I would like someone to look at them. I live near Ghent and I work during"
             " the week. So what are the opening hours of your shop in Ghent on Saturday?")
    (reply,) = (await post(client, api_headers, story))["replies"]
    assert (reply["kind"], reply["article_id"]) == ("answer", "opening-hours-shops")


async def test_a_retried_message_is_processed_once(client: TestClient,
                                                   api_headers: dict[str, str]) -> None:
    first = await post(client, api_headers, "I need a human please", message_id="m-42")
    again = await post(client, api_headers, "I need a human please", status=200,
                       message_id="m-42", conversation_id=first["conversation_id"])
    assert again["duplicate"] is True
    assert again["message_id"] == first["message_id"]
    assert [r["id"] for r in again["replies"]] == [r["id"] for r in first["replies"]]
    assert again["ticket_id"] == first["ticket_id"]
    conversation = await client.get(f"/api/v1/conversations/{first['conversation_id']}",
                                    headers=api_headers)
    assert len((await conversation.json())["messages"]) == 2


async def test_once_handed_off_the_bot_stays_silent(client: TestClient,
                                                    api_headers: dict[str, str]) -> None:
    first = await post(client, api_headers, "talk to a person")
    follow_up = await post(client, api_headers, "How long does delivery take?",
                           conversation_id=first["conversation_id"])
    assert follow_up["replies"] == []
    assert follow_up["ticket_id"] == first["ticket_id"]


async def test_that_did_not_help_hands_off(client: TestClient,
                                           api_headers: dict[str, str]) -> None:
    first = await post(client, api_headers, "How long does delivery take?")
    assert first["replies"][0]["kind"] == "answer"
    second = await post(client, api_headers, "that didn't help",
                        conversation_id=first["conversation_id"])
    assert second["replies"][0]["kind"] == "handoff"
    ticket = await client.app[STORE].get_ticket(second["ticket_id"])
    assert ticket is not None and ticket.bot_attempts[0]["reason"] == "answer did not help"


async def test_someone_elses_conversation_is_not_found(client: TestClient,
                                                       api_headers: dict[str, str]) -> None:
    mine = await post(client, api_headers, "hello", customer_id="alice")
    response = await client.post("/api/v1/messages", headers=api_headers, json={
        "customer": {"id": "mallory"}, "text": "show me", "conversation_id":
        mine["conversation_id"]})
    assert response.status == 404


async def test_invalid_body_names_the_field(client: TestClient,
                                            api_headers: dict[str, str]) -> None:
    response = await client.post("/api/v1/messages", headers=api_headers,
                                 json={"customer": {"id": "x"}, "text": ""})
    assert response.status == 400
    assert (await response.json())["error"].startswith("text:")


async def test_operator_reply_appears_in_the_conversation(client: TestClient,
                                                          api_headers: dict[str, str]) -> None:
    from gateway.keys import TICKETS

    result = await post(client, api_headers, "I want to speak to an agent")
    admin = await client.app[STORE].operator_by_username("admin")
    assert admin is not None
    await client.app[TICKETS].reply(admin, result["ticket_id"], "Hello Ann, I'm on it.")
    response = await client.get(f"/api/v1/conversations/{result['conversation_id']}",
                                headers=api_headers)
    body = await response.json()
    assert body["owner"] == "operator"
    assert body["messages"][-1]["author"] == "operator"
    assert body["messages"][-1]["text"] == "Hello Ann, I'm on it."


async def test_openapi_document_is_valid(client: TestClient) -> None:
    from openapi_spec_validator import validate

    response = await client.get("/api/v1/openapi.json")
    document = await response.json()
    validate(document)
    assert set(document["paths"]) == {"/api/v1/messages",
                                      "/api/v1/conversations/{conversation_id}",
                                      "/api/v1/surveys/{token}",
                                      "/api/v1/notifications", "/api/v1/contact-preferences"}


async def test_greetings_and_thanks_are_answered_without_a_ticket(
        client: TestClient, api_headers: dict[str, str]) -> None:
    hello = await post(client, api_headers, "Goedemiddag!", customer_id="nl-9", language="nl")
    assert hello["replies"][0]["kind"] == "smalltalk"
    assert hello["replies"][0]["text"] == "Hallo! Waarmee kan ik u helpen?"
    thanks = await post(client, api_headers, "merci beaucoup", language="fr",
                        conversation_id=hello["conversation_id"], customer_id="nl-9")
    assert thanks["replies"][0]["text"].startswith("Avec plaisir")
    assert hello["ticket_id"] is None and thanks["ticket_id"] is None


async def test_a_message_whose_handling_died_is_finished_by_the_sweep(
        client: TestClient, api_headers: dict[str, str]) -> None:
    from datetime import timedelta

    from gateway.channels import ConversationKey, Identity
    from gateway.keys import PIPELINE

    store = client.app[STORE]
    customer = await store.resolve_customer(Identity("api", "crashed"))
    conversation = await store.conversation_for(ConversationKey("api", "crashed:1"),
                                                customer.id, "en")
    # Stored, then the process died before deciding: its claim is already expired.
    message, _ = await store.add_inbound(conversation, "I want to talk to a person", "lost-1",
                                         claim=timedelta(seconds=-1))
    assert await client.app[PIPELINE].resume_unhandled() == 1
    assert await client.app[PIPELINE].resume_unhandled() == 0
    replies = await store.messages(conversation.id, after_id=message.id)
    assert [r.kind for r in replies] == ["handoff"]
    assert await store.open_ticket_of(conversation.id) is not None


async def test_a_retry_during_handling_does_not_decide_twice(
        client: TestClient, api_headers: dict[str, str]) -> None:
    from gateway.channels import ConversationKey, Identity

    store = client.app[STORE]
    customer = await store.resolve_customer(Identity("api", "slow"))
    conversation = await store.conversation_for(ConversationKey("api", "slow:1"),
                                                customer.id, "en")
    message, _ = await store.add_inbound(conversation, "hello", "in-flight")
    assert await store.reclaim_unhandled(message.id) is False


async def test_a_message_decided_again_after_a_crash_is_not_answered_twice(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from gateway.channels import ConversationKey, Identity
    from gateway.errors import StoreUnavailable
    from gateway.keys import PIPELINE
    from gateway.models import utcnow
    from gateway.store import codec

    store = client.app[STORE]
    customer = await store.resolve_customer(Identity("api", "twice"))
    conversation = await store.conversation_for(ConversationKey("api", "twice:1"),
                                                customer.id, "en")
    message, _ = await store.add_inbound(conversation, "How long does delivery take?",
                                         "crash-1", claim=timedelta(seconds=-1))
    marked = store.mark_handled

    async def crash(message_id: int) -> None:  # the process dies after storing the reply
        raise StoreUnavailable("killed")

    monkeypatch.setattr(store, "mark_handled", crash)
    with pytest.raises(StoreUnavailable):
        await client.app[PIPELINE].resume_unhandled()
    monkeypatch.setattr(store, "mark_handled", marked)
    await store.db.execute("UPDATE messages SET claimed_until = ? WHERE id = ?",
                           codec.ts(utcnow() - timedelta(seconds=1)), message.id)  # expired
    assert await client.app[PIPELINE].resume_unhandled() == 1

    replies = await store.messages(conversation.id, after_id=message.id)
    assert [r.kind for r in replies] == ["answer"]
    queued = [e for e in await store.outbox_entries() if e.conversation_id == conversation.id]
    assert len(queued) == 1


async def test_asking_for_news_on_a_handed_off_conversation_says_where_it_stands(
        client: TestClient, api_headers: dict[str, str]) -> None:
    first = await post(client, api_headers, "I want to talk to a human")
    conversation, ticket = first["conversation_id"], first["ticket_id"]
    quiet = await post(client, api_headers, "It is about my invoice of March",
                       conversation_id=conversation)
    assert quiet["replies"] == [] and quiet["ticket_id"] == ticket  # people own it: silence
    news = await post(client, api_headers, "Any news on my ticket?",
                      conversation_id=conversation)
    (status,) = news["replies"]
    assert status["kind"] == "status"
    assert status["text"] == (f"Your ticket #{ticket} is waiting for a colleague, who will"
                              " reply here. Your message has been added to it.")
    store = client.app[STORE]
    gina = await store.create_operator("gina", "Gina Peeters", "hash", "agent",
                                       queues=["general"])
    await store.update_ticket(ticket, "gina", "ticket.assigned", assignee_id=gina.id)
    stand = await post(client, api_headers, "Wat is de stand van zaken?",
                       conversation_id=conversation, language="nl")
    assert stand["replies"][0]["text"].startswith(
        f"Uw ticket #{ticket} is in behandeling bij Gina Peeters.")


async def test_the_organisations_own_wording_is_used(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str]) -> None:
    client = await aiohttp_client(create_app(make_settings(texts={
        "handoff_human": {"en": "Sure! A Velora colleague takes over (ticket {ticket})."},
        "smalltalk_greeting": {"en": "Hi, this is Velora. What can I do for you?"}})))
    hello = await post(client, api_headers, "hello", customer_id="c3")
    assert hello["replies"][0]["text"] == "Hi, this is Velora. What can I do for you?"
    english = await post(client, api_headers, "I want to talk to a human")
    assert english["replies"][0]["text"].startswith(  # (+ an out-of-hours notice at times)
        f"Sure! A Velora colleague takes over (ticket {english['ticket_id']}).")
    french = await post(client, api_headers, "Je veux parler à un humain", customer_id="c2",
                        language="fr")
    assert french["replies"][0]["text"].startswith("Bien sûr.")  # not reworded: the default
