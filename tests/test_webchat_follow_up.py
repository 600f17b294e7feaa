"""The follow-up link and address over the chat's WebSocket (issue 18): a genuine link
continues its conversation on a new session, a tampered or expired one starts a new chat,
the form is not offered without an e-mail channel, and erasure and access requests cover
the address and the linked browsers."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient

from connectors.webchat.follow_up import PURPOSE, FollowUps
from gateway import signed_links
from gateway.channels import ConversationKey, Identity
from gateway.keys import CHANNEL_STATES, CONNECTORS, STORE
from gateway.models import utcnow
from gateway.privacy.personal_data import erase, export
from gateway.store import store_for
from tests.test_webchat import ack_and_answer, hello, receive_until


def _follow_ups(client: TestClient) -> FollowUps:
    return client.app[CONNECTORS]["webchat"].follow_ups  # type: ignore[attr-defined, no-any-return]


async def _conversation(client: TestClient) -> tuple[str, int]:
    async with client.ws_connect("/chat/ws") as ws:
        session = (await hello(ws))["session"]
        await ws.send_json({"type": "message", "client_id": "q1",
                            "text": "How long does delivery take?"})
        ack, _ = await ack_and_answer(ws, "q1")
    return session, ack["conversation_id"]


async def test_a_link_continues_its_conversation_on_a_new_session(client: TestClient) -> None:
    session, conversation_id = await _conversation(client)
    token = (await _follow_ups(client).link(conversation_id)).split("hgw-continue=")[1]
    async with client.ws_connect("/chat/ws") as ws:
        await ws.send_json({"type": "hello", "session": None, "after": 0, "resume": token})
        welcome = await receive_until(ws, "welcome")
        assert welcome["conversation_id"] == conversation_id
        assert welcome["session"] != session  # the mailed link never carries the session
        replayed = await receive_until(ws, "message", author="customer")
        assert replayed["text"] == "How long does delivery take?"
        await ws.send_json({"type": "message", "client_id": "q2", "text": "Thanks!"})
        ack = await receive_until(ws, "ack", client_id="q2")
        assert ack["conversation_id"] == conversation_id
    async with client.ws_connect("/chat/ws") as ws:  # that device keeps its new session
        assert (await hello(ws, welcome["session"]))["conversation_id"] == conversation_id


async def test_a_tampered_or_expired_link_starts_a_new_chat(client: TestClient) -> None:
    _, conversation_id = await _conversation(client)
    token = (await _follow_ups(client).link(conversation_id)).split("hgw-continue=")[1]
    other = str(conversation_id + 1) + token[token.index("."):]
    secret = await client.app[STORE].link_secret()
    expired = signed_links.sign(secret, PURPOSE, conversation_id, utcnow() - timedelta(days=1))
    survey = signed_links.sign(secret, "csat", conversation_id, utcnow() + timedelta(days=1))
    for bad, why in ((other, "signature does not match"), (expired, "the link expired"),
                     (survey, "signature does not match"), ("not-a-token", "not a link")):
        async with client.ws_connect("/chat/ws") as ws:
            await ws.send_json({"type": "hello", "session": None, "resume": bad})
            error = await receive_until(ws, "error")
            assert why in error["error"] and "a new conversation starts here" in error["error"]
            assert (await receive_until(ws, "welcome"))["conversation_id"] is None


async def test_without_an_email_channel_no_address_is_asked_for(client: TestClient) -> None:
    async with client.ws_connect("/chat/ws") as ws:
        assert (await hello(ws))["follow_up"] == {"offered": False}
        await ws.send_json({"type": "message", "client_id": "q1", "text": "I want a person"})
        await receive_until(ws, "ack", client_id="q1")
        await ws.send_json({"type": "contact", "email": "ann@customer.test", "consent": True})
        assert (await receive_until(ws, "error"))["error"] == \
            "replies by e-mail are not offered here"
        await ws.send_json({"type": "contact", "email": "ann@customer.test"})  # no consent
        assert "consent" in (await receive_until(ws, "error"))["error"]


async def test_access_and_erasure_cover_the_address_and_the_linked_browsers(
        client: TestClient) -> None:
    _, conversation_id = await _conversation(client)
    store = client.app[STORE]
    await store.set_follow_up_address(conversation_id, "ann@customer.test")
    token = (await _follow_ups(client).link(conversation_id)).split("hgw-continue=")[1]
    async with client.ws_connect("/chat/ws") as ws:
        await ws.send_json({"type": "hello", "session": None, "resume": token})
        await receive_until(ws, "welcome", conversation_id=conversation_id)
    conversation = await store.get_conversation(conversation_id)
    assert conversation is not None
    exported = await export(store, conversation.customer_id, client.app[CHANNEL_STATES])
    assert exported["conversations"][0]["follow_up_address"]["email"] == "ann@customer.test"

    await erase(store, conversation.customer_id, client.app[CHANNEL_STATES], "admin")
    assert await store.follow_up_of(conversation_id) is None
    assert await store.db.fetchall("SELECT * FROM chat_session_links") == []


async def test_seen_and_mailed_never_undo_a_newer_reply(database_url: str) -> None:
    """On SQLite and PostgreSQL: "seen" clears a due mail only when it covers the newest
    reply; a mail sent clears it only when no newer reply came in meanwhile."""
    store = store_for(database_url)
    await store.open()
    try:
        customer = await store.resolve_customer(Identity("webchat", "a1"))
        conversation = await store.conversation_for(ConversationKey("webchat", "a1"),
                                                    customer.id, "en")
        cid = conversation.id
        await store.follow_up_reply(cid, 10, utcnow())  # no address left: nothing to do
        assert await store.follow_up_of(cid) is None
        await store.set_follow_up_address(cid, "ann@customer.test")
        await store.follow_up_reply(cid, 10, utcnow() - timedelta(seconds=1))
        await store.follow_up_reply(cid, 12, utcnow() + timedelta(hours=1))
        (due,) = await store.due_follow_ups(utcnow(), 10)
        assert due.pending_upto == 12  # the clock of the first unseen reply still runs
        await store.follow_up_seen(cid, 10)  # an older reply seen: the newer one is still due
        assert (await store.due_follow_ups(utcnow(), 10))[0].seen_upto == 10
        await store.follow_up_mailed(cid, 11)  # mailed up to 11: 12 came in meanwhile
        assert len(await store.due_follow_ups(utcnow(), 10)) == 1
        await store.follow_up_seen(cid, 12)
        assert await store.due_follow_ups(utcnow(), 10) == []
        await store.follow_up_reply(cid, 11, utcnow())  # older than what was seen: ignored
        assert await store.due_follow_ups(utcnow(), 10) == []
    finally:
        await store.close()
