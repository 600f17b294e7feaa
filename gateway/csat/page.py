"""The small no-login page an e-mail survey link opens, and the answer the web chat widget
posts: `GET /surveys/{token}` shows the question (the score the link carried chosen),
`POST /surveys/{token}` records the answer.

A GET never records anything: mail scanners and link previews open every link in a mail,
and would otherwise answer (and use up) the survey before the customer sees it.
"""

from __future__ import annotations

import json
from html import escape

import structlog
from aiohttp import web

from gateway.csat.service import MAX_COMMENT_CHARS, SCALE, Surveys
from gateway.csat.tokens import SurveyClosed, SurveyError, SurveyLinkExpired
from gateway.errors import StoreError
from gateway.keys import SETTINGS, SURVEYS
from gateway.models import Survey

log = structlog.get_logger(__name__)

#: The token is the key to the survey: no referrer carries it anywhere, no cache keeps it.
_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline';"
                                       " form-action 'self'; frame-ancestors 'none'"}
_JSON_HEADERS = {**_HEADERS, "Access-Control-Allow-Origin": "*"}
_STATUS = {"csat_invalid": 400, "csat_expired": 410, "csat_used": 409}
_STYLE = ("body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
          "color:#1d2a30}fieldset{border:0;padding:0;display:flex;gap:.5rem;flex-wrap:wrap}"
          "label.s{border:1px solid #0f4c5c;border-radius:.4rem;padding:.5rem .9rem}"
          "textarea{width:100%;min-height:6rem;margin:1rem 0}"
          "button{background:#0f4c5c;color:#fff;border:0;border-radius:.4rem;padding:.6rem 1.2rem}")


def _page(title: str, body: str, language: str | None, status: int = 200) -> web.Response:
    html = (f'<!DOCTYPE html><html lang="{escape(language or "en")}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>")
    return web.Response(text=html, content_type="text/html", status=status, headers=_HEADERS)


def _refusal(surveys: Surveys, error: SurveyError, language: str | None,
             as_json: bool) -> web.Response:
    status = _STATUS.get(error.reason, 400) if type(error) is not SurveyError else 400
    text = surveys.texts(error.reason, language) if type(error) is not SurveyError else str(error)
    if as_json:
        return web.json_response({"error": text, "reason": error.reason}, status=status,
                                 headers=_JSON_HEADERS)
    return _page(text, f'<p role="alert" id="survey-error">{escape(text)}</p>', language, status)


def _form(surveys: Surveys, survey: Survey, token: str, chosen: int | None) -> str:
    t, lang = surveys.texts, survey.language
    options = "".join(
        f'<label class="s"><input type="radio" name="score" value="{n}" required'
        f'{" checked" if n == chosen else ""}> {n}</label>' for n in range(1, SCALE + 1))
    return (f"<h1>{escape(t('csat_question', lang, ticket=survey.ticket_id))}</h1>"
            f'<form method="post" action="/surveys/{escape(token)}">'
            f"<p>1 = {escape(t('csat_low', lang))}, {SCALE} = {escape(t('csat_high', lang))}</p>"
            f'<fieldset>{options}</fieldset>'
            f'<label for="comment">{escape(t("csat_comment", lang))}</label>'
            f'<textarea id="comment" name="comment" maxlength="{MAX_COMMENT_CHARS}"></textarea>'
            f'<button type="submit">{escape(t("csat_send", lang))}</button></form>')


def _score(raw: object) -> int | None:
    try:
        value = int(str(raw))
    except ValueError:
        return None
    return value if 1 <= value <= SCALE else None


async def show(request: web.Request) -> web.Response:
    surveys = request.app[SURVEYS]
    token = request.match_info["token"]
    language = request.app[SETTINGS].languages.default
    try:
        survey = await surveys.survey_for(token)
    except SurveyError as exc:
        return _refusal(surveys, exc, language, as_json=False)
    except StoreError:
        return web.Response(status=503, text="storage unavailable, try again in a minute")
    if survey.status != "sent":  # answered already: said in the customer's language
        return _refusal(surveys, SurveyClosed(f"survey {survey.id} is {survey.status}"),
                        survey.language, as_json=False)
    return _page(surveys.texts("csat_send", survey.language),
                 _form(surveys, survey, token, _score(request.query.get("score"))),
                 survey.language)


async def answer(request: web.Request) -> web.Response:
    """Record the answer: from the page's form (an HTML page back), or from the chat widget,
    which asks for JSON. The widget may run on another site: its form post needs no
    preflight, and its JSON answer may be read by any origin (`*`: no cookie is involved,
    and whoever holds the token may know what became of it)."""
    surveys = request.app[SURVEYS]
    token = request.match_info["token"]
    body_json = request.content_type == "application/json"
    as_json = body_json or "application/json" in request.headers.get("Accept", "")
    language = request.app[SETTINGS].languages.default
    data: object
    if body_json:
        try:
            data = json.loads(await request.text())
        except ValueError:
            data = None
    else:
        data = dict(await request.post())
    if not isinstance(data, dict):
        return _refusal(surveys, SurveyError("expected a JSON object"), language, as_json)
    score, comment = _score(data.get("score")), data.get("comment")
    if score is None or not isinstance(comment, (str, type(None))):
        return _refusal(surveys, SurveyError(f"a score is 1 to {SCALE}"), language, as_json)
    try:
        survey = await surveys.answer(token, score, comment)
    except SurveyError as exc:
        if isinstance(exc, SurveyLinkExpired | SurveyClosed):
            log.info("csat.refused", reason=exc.reason)
        return _refusal(surveys, exc, language, as_json)
    except StoreError:
        return web.Response(status=503, text="storage unavailable, try again in a minute")
    thanks = surveys.texts("csat_thanks", survey.language)
    if as_json:
        return web.json_response({"ok": True, "score": survey.score, "text": thanks},
                                 headers=_JSON_HEADERS)
    return _page(thanks, f'<p id="survey-thanks">{escape(thanks)}</p>', survey.language)


def setup(app: web.Application) -> None:
    app.router.add_get("/surveys/{token}", show)
    app.router.add_post("/surveys/{token}", answer)
