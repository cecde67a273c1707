"""The simulator's console page: GET starts, each POST replays the inputs carried in the page plus one, the
htmx fragment and the plain page, errors beside their fields, and nothing written to the real database."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.app import create_app
from config.wiring import make_tagger
from surveys import accounts, admin
from surveys import models as m
from surveys.loader import load_survey_file
from surveys.store import Store
from tests.console.conftest import OP, PASSWORD, csrf_token, sign_in_as

SERVICE = Path(__file__).resolve().parents[2] / "surveys" / "examples" / "service.yaml"
URL = "/console/surveys/service-experience/simulate"


@pytest.fixture
def site(sqlite_db, settings, clock, now):
    store = Store(settings, sql_engine=sqlite_db.sql_engine, tagger=make_tagger(settings))
    river = admin.add_organisation(store, "Riverside Food Bank", "river", now)
    admin.add_organisation(store, "Youth Drop-in", "youth", now)
    admin.load_survey(store, load_survey_file(SERVICE), now)
    for username, role, orgs in (("admin", "admin", []), ("staff", "staff", ["river"])):
        account = accounts.add_user(store, OP, username, username.title(), role, orgs, now).account
        accounts.change_password(store, account.id, accounts.reset_password(store, OP, username, now).password,
                                 PASSWORD, now)
    app = create_app(settings, store, clock=clock)
    return {"app": app, "store": store, "river": river}


def client_for(site, clock, who="staff"):
    client = site["app"].test_client()
    sign_in_as(client, site["store"], who, clock())
    return client


def hidden(page: str) -> dict:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return {k: html.unescape(v) for k, v in fields.items()}


def chat_texts(page: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<span class="sim-text" data-testid="text">(.*?)</span>', page, re.S)]


def counts(store) -> dict:
    with store.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in m.Base.metadata.sorted_tables}


def test_get_starts_on_the_sms_screen_with_segments(site, clock):
    page = client_for(site, clock).get(URL)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    texts = chat_texts(body)
    assert texts[0].startswith("Hi, it's Riverside Food Bank.") and texts[1].startswith("How likely are you to recommend")
    assert "segment" in body and "GSM-7" in body
    assert hidden(body)["inputs"] == "[]" and hidden(body)["organisation"] == "river"
    # Staff of river simulate only a person of river.
    assert '<option value="youth"' not in body
    assert '<option value="youth"' in client_for(site, clock, "admin").get(URL).get_data(as_text=True)


def test_each_post_replays_the_inputs_and_nothing_real_changes(site, clock):
    client = client_for(site, clock)
    before = counts(site["store"])          # after signing in (a session and its audit entry)
    state = hidden(client.get(URL).get_data(as_text=True))
    for text in ("eleven", "3", "the queue was long"):
        response = client.post(URL, data={**state, "text": text})
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        state = hidden(body)
    assert [i["t"] for i in json.loads(state["inputs"])] == ["eleven", "3", "the queue was long"]
    texts = chat_texts(body)
    assert "Please reply with a number from 0 (Not at all likely) to 10 (Extremely likely)." in texts
    assert "Thanks for being honest. What could we do better?" in texts
    assert texts[-1].startswith("How did you first hear about us?\n1. Friend or family")
    assert "do_better: the queue was long" in body and "negative" in body      # the stored answer and its sentiment
    assert "restart here" in body
    assert counts(site["store"]) == before


def test_htmx_gets_the_fragment_and_telegram_buttons_press(site, clock):
    client = client_for(site, clock)
    body = client.get(URL + "?channel=telegram").get_data(as_text=True)
    state = hidden(body)
    press = re.search(r'name="press" value="([^"]+)" class="sim-button">9<', body).group(1)
    response = client.post(URL, data={**state, "press": html.unescape(press)}, headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment and 'id="sim-live"' in fragment
    assert "\n\n✓ 9" in chat_texts(fragment)[1]
    assert chat_texts(fragment)[-1] == "That's lovely to hear! What did we do well?"
    assert json.loads(hidden(fragment)["inputs"]) == [{"p": "recommend|9", "o": 1}]


def test_errors_sit_beside_their_fields(site, clock):
    client = client_for(site, clock)
    bad = client.get(URL + "?timezone=Mars/Olympus")
    assert bad.status_code == 400
    assert re.search(r'<p class="error" id="timezone-error">timezone &#39;Mars/Olympus&#39;: unknown', bad.get_data(as_text=True))
    state = hidden(client.get(URL).get_data(as_text=True))
    empty = client.post(URL, data={**state, "text": "  "})
    assert empty.status_code == 400 and 'id="sim-text-error">Type a message to send.<' in empty.get_data(as_text=True)
    tampered = client.post(URL, data={**state, "inputs": '[{"p": "recommend|9", "o": 0}]', "text": "hi"})
    assert tampered.status_code == 400 and "that button is not on the screen" in tampered.get_data(as_text=True)
    unreadable = client.post(URL, data={**state, "inputs": "{not json", "text": "hi"})
    assert unreadable.status_code == 400 and "could not be read" in unreadable.get_data(as_text=True)
    assert client.get("/console/surveys/nope/simulate").status_code == 404


def test_restart_link_starts_at_that_question_with_the_answers_so_far(site, clock):
    client = client_for(site, clock)
    state = hidden(client.get(URL).get_data(as_text=True))
    body = client.post(URL, data={**state, "text": "8"}).get_data(as_text=True)
    link = html.unescape(re.search(r'<a href="([^"]+)">restart here', body).group(1))
    assert "start_at=make_it_ten" in link and "earlier-recommend=8" in link
    restarted = client.get(link).get_data(as_text=True)
    assert chat_texts(restarted) == ["Thank you! What would make it a 10?"]
    assert "recommend = 8" in restarted


def test_csrf_is_required(site, clock):
    client = client_for(site, clock)
    assert client.post(URL, data={"text": "hi"}).status_code == 400
    token = csrf_token(client, URL)
    assert client.post(URL, data={"csrf_token": token, "text": "hi"}).status_code == 200
