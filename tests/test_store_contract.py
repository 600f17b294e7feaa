"""The store contract: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from gateway.app import channel_states
from gateway.channels import ConversationKey, Identity
from gateway.config.settings import RetentionSettings
from gateway.models import utcnow
from gateway.privacy import personal_data, retention
from gateway.store import Store, codec, store_for


async def open_store(url: str) -> Store:
    store = store_for(url)
    await store.open()
    return store


async def test_migrations_are_applied_once(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        assert await store.migrate() == []
    finally:
        await store.close()


async def test_same_email_on_two_channels_is_one_customer(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        by_mail = await store.resolve_customer(Identity("email", "ann@example.be", "Ann",
                                                        "Ann@Example.be"))
        by_slack = await store.resolve_customer(Identity("slack", "U123", "ann",
                                                         "ann@example.be"))
        stranger = await store.resolve_customer(Identity("slack", "U999", "bob"))
        assert by_mail.id == by_slack.id
        assert stranger.id != by_mail.id
        again = await store.resolve_customer(Identity("slack", "U123", "ann"))
        assert again.id == by_mail.id
    finally:
        await store.close()


async def test_an_email_learnt_late_never_merges_two_customers(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        crm = await store.resolve_customer(Identity("api", "crm-1", "Ann", "ann@example.com"))
        slack = await store.resolve_customer(Identity("slack", "U1", "Ann"))
        again = await store.resolve_customer(Identity("slack", "U1", "Ann", "ann@example.com"))
        assert again.id == slack.id != crm.id
        assert again.email is None
        fresh = await store.resolve_customer(Identity("slack", "U2", "Bo"))
        learnt = await store.resolve_customer(Identity("slack", "U2", "Bo", "bo@example.com"))
        assert learnt.id == fresh.id and learnt.email == "bo@example.com"
    finally:
        await store.close()


async def test_a_resent_message_is_stored_once(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        customer = await store.resolve_customer(Identity("webchat", "s1"))
        conversation = await store.conversation_for(ConversationKey("webchat", "s1"),
                                                    customer.id, "en")
        first, new = await store.add_inbound(conversation, "hello", "m-1")
        again, new_again = await store.add_inbound(conversation, "hello", "m-1")
        assert new and not new_again
        assert again.id == first.id
        assert [m.text for m in await store.messages(conversation.id)] == ["hello"]
    finally:
        await store.close()


async def test_the_replies_to_a_message_are_found_by_their_keys(database_url: str) -> None:
    """Web chat stores a visitor's next messages before the first is decided: its replies
    are found by their reply_key, wherever they land in the conversation."""
    store = await open_store(database_url)
    try:
        customer = await store.resolve_customer(Identity("webchat", "s9"))
        conversation = await store.conversation_for(ConversationKey("webchat", "s9"),
                                                    customer.id, "en")
        first, _ = await store.add_inbound(conversation, "one", "m-1")
        second, _ = await store.add_inbound(conversation, "two", "m-2")
        for n, text in enumerate(("a", "b")):
            await store.add_reply(conversation, author="bot", text=text, kind="answer",
                                  reply_key=f"{first.id}:{n}")
        await store.add_reply(conversation, author="bot", text="c", kind="answer",
                              reply_key=f"{second.id}:0")
        assert [m.text for m in await store.replies_to(first.id)] == ["a", "b"]
        assert [m.text for m in await store.replies_to(second.id)] == ["c"]
        assert await store.replies_to(second.id + 100) == []
    finally:
        await store.close()


async def test_concurrent_first_contacts_share_one_conversation(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        customer = await store.resolve_customer(Identity("api", "c1"))
        key = ConversationKey("api", "c1:thread")
        found = await asyncio.gather(*(store.conversation_for(key, customer.id, None)
                                       for _ in range(5)))
        assert len({c.id for c in found}) == 1
    finally:
        await store.close()


async def test_reply_is_in_the_outbox_and_leased_to_one_worker(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        customer = await store.resolve_customer(Identity("webchat", "s2"))
        conversation = await store.conversation_for(ConversationKey("webchat", "s2"),
                                                    customer.id, "en")
        message, entry = await store.add_reply(conversation, author="bot", text="hi",
                                               kind="answer", meta={"article_id": "a"})
        assert entry.payload == {"article_id": "a", "text": "hi", "author": "bot",
                                 "kind": "answer", "created_at": codec.ts(message.created_at)}
        lease = timedelta(seconds=30)
        first, second = await asyncio.gather(store.claim_outbox("w1", lease),
                                             store.claim_outbox("w2", lease))
        assert len(first) + len(second) == 1
        claimed = (first or second)[0]
        assert claimed.message_id == message.id and claimed.attempts == 1
        await store.outbox_done(claimed.id, {"ok": True})
        assert await store.outbox_pending_count() == 0
        assert await store.claim_outbox("w3", lease) == []
    finally:
        await store.close()


async def test_a_reply_pushed_after_commit_is_leased_by_the_claim_rule(
        database_url: str) -> None:
    """`lease_outbox` (web-chat replies pushed right after their commit) leases by id as
    `claim_outbox` does: to one worker only, never while the conversation is being sent, and
    never past an older reply of the conversation still waiting."""
    store = await open_store(database_url)
    try:
        customer = await store.resolve_customer(Identity("webchat", "p1"))
        conversation = await store.conversation_for(ConversationKey("webchat", "p1"),
                                                    customer.id, "en")
        _, first = await store.add_reply(conversation, author="bot", text="one", kind="answer")
        _, second = await store.add_reply(conversation, author="bot", text="two", kind="answer")
        both, lease = [first.id, second.id], timedelta(seconds=30)
        assert await store.lease_outbox(second.id, "pusher", lease) is None, \
            "an older reply waits: not pushed past it"
        # pushed together: the last one first, then the one before it
        assert await store.lease_outbox(second.id, "pusher", lease, both) is not None
        pushed = await store.lease_outbox(first.id, "pusher", lease, both)
        assert pushed is not None and pushed.attempts == 1
        assert await store.claim_outbox("worker", lease) == [], "being sent by the pusher"
        assert await store.lease_outbox(first.id, "other", lease, both) is None
        await store.release_outbox_lease(second.id, "pusher")  # not sent after all
        assert await store.claim_outbox("worker", lease) == [], "the conversation is busy"
        await store.outbox_done(first.id, None)
        (claimed,) = await store.claim_outbox("worker", lease)
        assert claimed.id == second.id and claimed.attempts == 1, "a lease given back"
        assert await store.lease_outbox(second.id, "pusher", lease, both) is None, \
            "the worker has it"
        await store.outbox_done(second.id, None)
        _, third = await store.add_reply(conversation, author="bot", text="3", kind="answer")
        leased = await store.lease_outbox(third.id, "pusher", lease)
        assert leased is not None and await store.extend_outbox_lease(third.id, "pusher", lease)
        assert await store.claim_outbox("worker", lease) == []
        await store.outbox_done(third.id, None)
        assert await store.lease_outbox(third.id, "pusher", lease) is None, "sent: not again"
    finally:
        await store.close()


async def test_failed_send_is_retried_after_its_delay(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        customer = await store.resolve_customer(Identity("webchat", "s3"))
        conversation = await store.conversation_for(ConversationKey("webchat", "s3"),
                                                    customer.id, "en")
        await store.add_reply(conversation, author="bot", text="hi", kind="answer")
        lease = timedelta(seconds=30)
        (entry,) = await store.claim_outbox("w", lease)
        await store.outbox_retry(entry.id, "connection refused", utcnow() + timedelta(hours=1))
        assert await store.claim_outbox("w", lease) == []
        await store.outbox_retry(entry.id, "connection refused", utcnow())
        (again,) = await store.claim_outbox("w", lease)
        assert again.attempts == 2 and again.last_error == "connection refused"
    finally:
        await store.close()


async def test_ticket_changes_are_audited(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        customer = await store.resolve_customer(Identity("api", "c9"))
        conversation = await store.conversation_for(ConversationKey("api", "c9:t"),
                                                    customer.id, "fr")
        ticket = await store.create_ticket(conversation, queue="general", priority="P3",
                                           subject="help", bot_attempts=[{"reason": "x"}],
                                           actor="bot")
        assert ticket.status == "new" and ticket.language == "fr"
        updated = await store.update_ticket(ticket.id, "alice", "ticket.assigned", status="open")
        assert updated.status == "open"
        events = await store.events(ticket_id=ticket.id)
        assert [(e.actor, e.type) for e in events] == [("bot", "ticket.created"),
                                                       ("alice", "ticket.assigned")]
        assert events[1].data["status"] == {"from": "new", "to": "open"}
        assert (await store.open_ticket_of(conversation.id)) == updated
    finally:
        await store.close()


async def test_event_dedup_is_first_time_only(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        results = await asyncio.gather(*(store.first_time("slack", "Ev1") for _ in range(4)))
        assert sorted(results) == [False, False, False, True]
    finally:
        await store.close()


async def test_connector_state_round_trips(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        assert await store.get_state("imap:INBOX") is None
        await store.set_state("imap:INBOX", {"uidvalidity": 7, "last_uid": 42})
        await store.set_state("imap:INBOX", {"uidvalidity": 7, "last_uid": 43})
        assert await store.get_state("imap:INBOX") == {"uidvalidity": 7, "last_uid": 43}
        assert await store.delete_state(["imap:INBOX", "imap:never"]) == 1
        assert await store.get_state("imap:INBOX") is None
    finally:
        await store.close()


async def test_an_operator_is_changed_and_logged_out_everywhere(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        gina = await store.create_operator("gina", "Gina", "hash", "agent", ["en"], ["general"])
        for token in ("t1", "t2"):
            await store.create_session(token, gina.id, "csrf", utcnow() + timedelta(hours=1))
        customer = await store.resolve_customer(Identity("api", "c10"))
        conversation = await store.conversation_for(ConversationKey("api", "c10:t"),
                                                    customer.id, "en")
        ticket = await store.create_ticket(conversation, queue="general", priority="P3",
                                           subject="help", bot_attempts=[], actor="bot")
        await store.update_ticket(ticket.id, "gina", "ticket.assigned", assignee_id=gina.id)
        assert [t.id for t in await store.tickets_assigned_to(gina.id)] == [ticket.id]

        changed = await store.update_operator(gina.id, display_name="Gina P", role="supervisor",
                                              languages=["en", "nl"], queues=[], active=False)
        assert (changed.display_name, changed.role, changed.languages, changed.queues,
                changed.active) == ("Gina P", "supervisor", ("en", "nl"), (), False)
        assert await store.get_operator(gina.id) == changed
        await store.delete_sessions_of(gina.id)
        assert await store.session("t1") is None and await store.session("t2") is None
    finally:
        await store.close()


async def test_a_customer_is_exported_and_erased(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        ann = await store.resolve_customer(Identity("email", "ann@example.be", "Ann",
                                                    "ann@example.be"))
        conversation = await store.conversation_for(ConversationKey("email", "ann@example.be"),
                                                    ann.id, "nl")
        message, _ = await store.add_inbound(conversation, text="Ik ben Ann, mijn fiets",
                                             channel_message_id="<m1@example.be>")
        ticket = await store.create_ticket(conversation, queue="general", priority="P3",
                                           subject="Ann's bike", bot_attempts=[{"q": "fiets"}],
                                           actor="bot")
        exported = await personal_data.export(store, await personal_data.find_customer(
            store, "ANN@example.be"), channel_states())
        assert json.loads(json.dumps(exported, default=str))["customer"]["name"] == "Ann"
        assert exported["tickets"][0]["bot_attempts"] == [{"q": "fiets"}]

        erased = await personal_data.erase(store, ann.id, channel_states(), actor="dpo")
        assert (erased.messages, erased.tickets, erased.tickets_closed) == (1, 1, 1)
        assert [m.text for m in await store.messages(conversation.id)] == ["[erased]"]
        closed = await store.get_ticket(ticket.id)
        assert closed is not None and closed.status == "closed"
        # the mail's id is kept: fetched again from the mailbox, it is not taken in again
        kept = await store.find_message("email", "<m1@example.be>")
        assert kept is not None and kept.id == message.id and kept.text == "[erased]"
        with pytest.raises(personal_data.NoSuchCustomer):
            await personal_data.find_customer(store, "ann@example.be")
    finally:
        await store.close()


async def test_retention_purges_old_closed_conversations(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        old = await store.resolve_customer(Identity("api", "old-1", "Olga"))
        conversation = await store.conversation_for(ConversationKey("api", "old-1:t"),
                                                    old.id, "en")
        await store.add_inbound(conversation, text="my old question", channel_message_id="o1")
        ticket = await store.create_ticket(conversation, queue="general", priority="P3",
                                           subject="old", bot_attempts=[], actor="bot")
        await store.update_ticket(ticket.id, "gina", "ticket.closed", status="closed")
        then = codec.ts(utcnow() - timedelta(days=400))
        for table, key in (("conversations", "id"), ("tickets", "conversation_id")):
            await store.db.execute(f"UPDATE {table} SET updated_at = ? WHERE {key} = ?", then,
                                   conversation.id)
        await store.db.execute("UPDATE customers SET created_at = ? WHERE id = ?", then, old.id)

        purged = await retention.purge(store, RetentionSettings(conversations_days=365),
                                      channel_states())
        assert (purged.conversations, purged.customers) == (1, 1)
        assert [m.text for m in await store.messages(conversation.id)] == ["[erased]"]
        assert await retention.purge(store, RetentionSettings(conversations_days=365),
                                      channel_states()) == \
            retention.Purge()  # nothing left to do
    finally:
        await store.close()


async def test_a_replys_files_are_stored_with_it_or_not_at_all(database_url: str) -> None:
    """An operator's files go in with the reply and its outbox entry, in one transaction:
    the payload lists them for the channel; a failure half-way leaves no reply, no entry
    and no file; a reply stored again under its key gets no second copy of them."""
    from gateway.console.reply_form import ReplyFile
    from gateway.store.attachments import attachment

    class Broken:
        """A file whose bytes cannot be read (after the first file's row is written)."""

        filename, content_type, size, too_large = "x.png", "image/png", 1, False

        @property
        def data(self) -> bytes:
            raise RuntimeError("disk gone")

    store = await open_store(database_url)
    try:
        customer = await store.resolve_customer(Identity("webchat", "s9"))
        conversation = await store.conversation_for(ConversationKey("webchat", "s9"),
                                                    customer.id, "en")
        pdf = ReplyFile("manual.pdf", "application/pdf", 9, b"%PDF-1.4\n")
        with pytest.raises(RuntimeError):
            await store.add_reply(conversation, author="operator", text="see attached",
                                  kind="operator", files=[pdf, Broken()])
        assert await store.messages(conversation.id) == []
        assert await store.outbox_entries() == []
        none = await store.db.fetchone("SELECT COUNT(*) AS n FROM attachments")
        assert none is not None and int(none["n"]) == 0

        message, entry = await store.add_reply(conversation, author="operator",
                                               text="see attached", kind="operator",
                                               reply_key="r-1", files=[pdf])
        (listed,) = entry.payload["files"]
        assert {k: listed[k] for k in ("name", "type", "size")} == \
            {"name": "manual.pdf", "type": "application/pdf", "size": 9}
        assert message.meta["files"] == entry.payload["files"]
        stored = await attachment(store, listed["id"])
        assert stored is not None and stored.data == b"%PDF-1.4\n"
        assert stored.meta.message_id == message.id

        again, _ = await store.add_reply(conversation, author="operator", text="see attached",
                                         kind="operator", reply_key="r-1", files=[pdf])
        assert again.id == message.id
        count = await store.db.fetchone("SELECT COUNT(*) AS n FROM attachments")
        assert count is not None and int(count["n"]) == 1
    finally:
        await store.close()
