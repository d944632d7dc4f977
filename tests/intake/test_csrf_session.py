"""Console forms are bound to the session (issue 18): a cookie tossed from another port of
the same host (cookies ignore ports; SameSite does not separate them) cannot carry a
forged form, and a form posted from another origin is refused whatever its token."""

from __future__ import annotations

import re

from tests.intake.helpers import register

TOSSED = "t" * 43


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def city_timezone(client) -> str:
    me = (await client.get("/api/v1/me")).json()
    return me["city"]["timezone"]


async def test_a_cookie_tossed_from_another_port_cannot_change_a_citys_settings(intake):
    api, _ = await register(intake, "Tossington")
    session = api.headers["authorization"].split(" ", 1)[1]
    before = await city_timezone(api)
    assert before != "America/Denver"
    forged = {"timezone": "America/Denver", "language": "es", "csrf_token": TOSSED}
    async with intake.client("intake") as browser:
        browser.cookies.set("wwc_token", session)      # the victim's session, sent by their browser
        browser.cookies.set("wwc_csrf", TOSSED)        # set by a page on http://intake:9999
        # The attacker's page posts its own token, matching the tossed cookie: refused.
        for origin in ({"origin": "http://intake:9999"}, {"referer": "http://intake:9999/evil"}, {}):
            r = await browser.post("/portal/city", data=forged, headers=origin)
            assert r.status_code == 403, (origin, r.status_code)
            assert "This form has expired" in r.text
        assert await city_timezone(api) == before

        # Even the page's own token is refused from another origin.
        page = await browser.get("/portal/city")
        token = form_token(page.text)
        assert token != TOSSED
        r = await browser.post("/portal/city", data={**forged, "csrf_token": token},
                               headers={"origin": "http://intake:9999"})
        assert r.status_code == 403
        assert await city_timezone(api) == before

        # From its own page (same origin), the person's form goes through.
        r = await browser.post("/portal/city", data={**forged, "csrf_token": token},
                               headers={"origin": "http://intake"})
        assert r.status_code == 303, r.text
    assert await city_timezone(api) == "America/Denver"


async def test_the_token_of_one_session_does_not_work_for_another(intake):
    first, _ = await register(intake, "Firstville")
    second, _ = await register(intake, "Secondville")
    async with intake.client("intake") as attacker:
        attacker.cookies.set("wwc_token", first.headers["authorization"].split(" ", 1)[1])
        stolen = form_token((await attacker.get("/portal/city")).text)
        nonce = attacker.cookies.get("wwc_csrf")
    async with intake.client("intake") as victim:
        victim.cookies.set("wwc_token", second.headers["authorization"].split(" ", 1)[1])
        victim.cookies.set("wwc_csrf", nonce)
        r = await victim.post("/portal/city", data={"timezone": "America/Denver", "language": "es",
                                                    "csrf_token": stolen})
        assert r.status_code == 403
    assert await city_timezone(second) != "America/Denver"
