"""A campaign of 1,000 customers by e-mail: created in the console from a CSV upload, sent
through the outbox at the configured rate to the real SMTP test server, paused and resumed
without a duplicate, every mail with RFC 8058 one-click unsubscribe, which is honoured."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from aiohttp import web

from gateway.keys import CAMPAIGNS, SETTINGS
from gateway.models import utcnow
from gateway.store import codec
from tests.conftest import ADMIN_PASSWORD
from tests.email_live.conftest import GatewayFactory
from tests.email_live.console_browser import OpenConsole
from tests.email_live.servers import SmtpCapture

AUDIENCE = 1000
RATE = 600  # a minute: 10 a second


async def test_a_campaign_goes_out_at_its_rate_pauses_resumes_and_honours_unsubscribe(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
        browser: OpenConsole) -> None:
    gw = await gateway(mailbox, outbox={})
    console = await browser(gw)
    await console.login("admin", ADMIN_PASSWORD)
    csv = "email,name,language\n" + "".join(
        f"c{n:04d}@customer.test,Customer {n},{('en', 'fr', 'nl', 'de')[n % 4]}\n"
        for n in range(AUDIENCE))
    tz = gw.app[SETTINGS].calendar.calendar().tz
    start = (utcnow() + timedelta(days=1)).astimezone(tz).replace(second=0, microsecond=0)
    form = aiohttp.FormData()
    for key, value in {"csrf": console.csrf, "name": "Spring", "template": "new-models",
                       "rate": str(RATE), "start": start.strftime("%Y-%m-%dT%H:%M")}.items():
        form.add_field(key, value)
    form.add_field("audience", csv.encode(), filename="audience.csv", content_type="text/csv")
    async with console.session.post(f"{console.base}/console/campaigns", data=form) as done:
        assert done.status == 200 and "Campaign created" in await done.text()

    runner, store = gw.app[CAMPAIGNS], gw.store
    (campaign,) = await store.campaigns()
    t0 = codec.parse_ts(campaign["start_at"])
    assert await runner.run_once(t0 - timedelta(seconds=5)) == 0  # not started yet
    assert await runner.run_once(t0 + timedelta(seconds=1)) == 10  # the rate: 10 a second
    assert await runner.run_once(t0 + timedelta(seconds=1)) == 0  # that budget is spent

    status, _ = await console.post(f"/console/campaigns/{campaign['id']}/pause", {})
    assert status == 200
    assert await runner.run_once(t0 + timedelta(seconds=30)) == 0  # paused: nothing
    status, _ = await console.post(f"/console/campaigns/{campaign['id']}/resume", {})
    assert status == 200
    moment, sent = t0 + timedelta(seconds=30), 10
    while sent < AUDIENCE:
        moment += timedelta(seconds=10)
        taken = await runner.run_once(moment)
        assert taken <= 100  # one batch a round, however long it was paused
        sent += taken
    assert sent == AUDIENCE

    mails = await smtp.wait_for(AUDIENCE, timeout=300)
    recipients = [m["To"] for m in mails]
    assert len(recipients) == len(set(recipients)) == AUDIENCE  # nobody twice
    first = mails[0]
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = first["List-Unsubscribe"].strip("<>")
    path = url[url.index("/unsubscribe/"):]

    site = web.TCPSite(gw.runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:  # the mail client's one-click POST
        async with http.post(f"http://127.0.0.1:{port}{path}",
                             data="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}
                             ) as response:
            assert response.status == 200
        async with http.get(f"http://127.0.0.1:{port}/unsubscribe/1.2.abc") as response:
            assert response.status == 404
    await site.stop()
    customer = await store.customer_by_email(first["To"].addresses[0].addr_spec)
    assert customer is not None and await store.opted_out(customer.id, "marketing")
    counts = await store.campaign_counts(campaign["id"])
    assert counts["queued"] == AUDIENCE and counts["unsubscribed"] == 1

    # the next campaign to the same people leaves the unsubscribed customer out
    again = await store.create_campaign("Summer", "new-models", 6000, t0, "admin",
                                        [customer.id])
    assert await runner.run_once(t0 + timedelta(seconds=60)) == 1
    assert (await store.campaign_counts(again))["skipped"] == 1
