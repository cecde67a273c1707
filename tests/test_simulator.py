"""The survey simulator (surveys.simulator): runs through the real service on a sandbox, shows exactly what each
channel would send, and never changes the real store. On both databases (the real store; the sandbox is
always an in-memory SQLite database)."""
from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.inbound import command_to_text
from bot.render import coalesce, parse_callback_data, render, text_after_press
from config.wiring import make_tagger, simulator_screens
from sms.channel import render_sms, sms_cost
from sms.segments import count_segments
from surveys import admin, flags, messages
from surveys import models as m
from surveys.loader import load_survey_file
from surveys.scope import Forbidden, Scope
from surveys.service import InboundMessage, handle_inbound, start_conversation
from surveys.simulator import SimInput, SimSettings, SimulatorError, restart_settings, simulate
from surveys.store import Store

SERVICE = Path(__file__).resolve().parent.parent / "surveys" / "examples" / "service.yaml"
OP = Scope.operator()
SCREENS = simulator_screens()


@pytest.fixture
def store(db, settings, now):
    """The test database with the tagger the service runs with (sentiment and safeguarding), a river and a
    youth organisation, the service-experience survey (branching, en and es) and a safeguarding contact."""
    # SMTP configured (never used: nothing is sent here), so river's email contact is one an alert reaches.
    settings = replace(settings, smtp_host="127.0.0.1")
    real = Store(settings, sql_engine=db.sql_engine, tagger=make_tagger(settings))
    real.orgs = {"river": admin.add_organisation(real, "Riverside Food Bank", "river", now),
                 "youth": admin.add_organisation(real, "Youth Drop-in", "youth", now)}
    admin.load_survey(real, load_survey_file(SERVICE), now)
    flags.store_safeguarding_contact(real, real.orgs["river"], "email", "lead@example.org", now)
    return real


def sim_settings(now, channel="sms", **kw):
    return SimSettings(channel=channel, organisation=kw.pop("organisation", "river"), language=kw.pop("language", "en"),
                       started=now, **kw)


def texts(inputs):
    return [SimInput(text=t) for t in inputs]


def service_texts(sim):
    return [i.shown.text for i in sim.items if i.who == "service"]


# A low score (branch to do_better), an unreadable one first (re-prompt), words that raise a flag, LANGUAGE to
# Spanish, SKIP, and a Spanish yes to finish.
WALK = ["eleven", "3", "I want to kill myself", "LANGUAGE", "2", "SKIP", "sí"]


def test_sms_run_to_the_end_with_a_branch_a_reprompt_skip_and_language(store, now):
    sim = simulate(store, OP, "service-experience", sim_settings(now), texts(WALK), SCREENS)
    shown = service_texts(sim)
    assert shown[0].startswith("Hi, it's Riverside Food Bank.")
    assert shown[1].startswith("How likely are you to recommend Riverside Food Bank")
    assert shown[2] == "Please reply with a number from 0 (Not at all likely) to 10 (Extremely likely)."
    assert shown[3] == "Thanks for being honest. What could we do better?"          # the branch for 0-6
    steps = {s.step: s for s in sim.steps}
    assert steps[1].answers == () and steps[1].question == "recommend"              # re-prompted, nothing stored
    [score] = steps[2].answers
    assert (score.question, score.status, score.value) == ("recommend", "answered", "3")
    [words] = steps[3].answers
    assert words.flag == ("suicide",) and words.flag_layer == "lexicon" and words.sentiment == "negative"
    # A safeguarding contact exists for river, so the person is told a person will read it (copied to the sandbox).
    assert shown[4] == messages.text("en", "safeguarding_reply", org="Riverside Food Bank")
    assert steps[5].language == "es" and steps[5].question == "heard_about"
    [skipped] = steps[6].answers
    assert (skipped.question, skipped.status) == ("heard_about", "skipped")
    assert steps[7].answers[0].value == "yes" and steps[7].conversation == "completed"
    assert shown[-1].startswith("Gracias por tu tiempo.")
    assert sim.finished
    # Every SMS bubble carries its cost.
    assert all(i.shown.segments >= 1 and i.shown.encoding in ("GSM-7", "UCS-2") for i in sim.items if i.who == "service")


def test_telegram_buttons_branch_and_a_closed_button(store, now):
    start = simulate(store, OP, "service-experience", sim_settings(now, "telegram"), [], SCREENS)
    question = start.items[1]
    assert [b.label for b in question.shown.buttons[0]] == ["0", "1", "2", "3", "4", "5"]
    nine = next(b.data for row in question.shown.buttons for b in row if b.label == "9")
    inputs = [SimInput(press=nine, on=1)]
    sim = simulate(store, OP, "service-experience", sim_settings(now, "telegram"), inputs, SCREENS)
    assert sim.items[1].shown.buttons == () and sim.items[1].shown.text.endswith("\n\n✓ 9")
    assert service_texts(sim)[-1] == "That's lovely to hear! What did we do well?"       # the branch for 9-10
    inputs += texts(["/language"])
    sim = simulate(store, OP, "service-experience", sim_settings(now, "telegram"), inputs, SCREENS)
    language_msg = sim.items[-1]
    assert [b.label for row in language_msg.shown.buttons for b in row] == ["English", "Español"]
    es = next(b.data for row in language_msg.shown.buttons for b in row if b.label == "Español")
    inputs += [SimInput(press=es, on=language_msg.index)]
    sim = simulate(store, OP, "service-experience", sim_settings(now, "telegram"), inputs, SCREENS)
    assert sim.steps[-1].language == "es" and sim.items[-1].shown.text.endswith("¿Qué hicimos bien?")
    # LANGUAGE again, then a press on the first language message's buttons? They are gone; the second's are live.
    inputs += texts(["LANGUAGE"])
    sim = simulate(store, OP, "service-experience", sim_settings(now, "telegram"), inputs, SCREENS)
    stale = sim.items[-1]
    inputs += texts(["1"]) + [SimInput(press=next(b.data for row in stale.shown.buttons for b in row), on=stale.index)]
    sim = simulate(store, OP, "service-experience", sim_settings(now, "telegram"), inputs, SCREENS)
    assert sim.steps[-1].notice == "That question has closed."      # the bot's toast, in English (the bot's fallback)
    assert sim.items[-1].who == "notice"


def test_a_button_that_is_not_on_the_screen_is_refused(store, now):
    with pytest.raises(SimulatorError, match="not on the screen") as caught:
        simulate(store, OP, "service-experience", sim_settings(now, "telegram"), [SimInput(press="recommend|9", on=0)],
                 SCREENS)
    assert caught.value.field == "inputs"


# ---- byte-identical to the channels, against the real service and the adapters' own renderers ----------------
def _real_run(store, now, channel, address, inputs):
    """The same conversation for real: a person staff added (consent pending), the survey started for them, then
    each input through handle_inbound. Returns (invitation replies, [replies per input])."""
    contact = admin.add_participant(store, channel, address, "river", now, language="en")
    invitation = start_conversation(store, contact, "service-experience", now)
    out = []
    for i, given in enumerate(inputs, 1):
        if given.press is not None:
            ref, value = parse_callback_data(given.press)
            msg = InboundMessage(channel, address, f"real-{i}", text=value, kind="button", ref=ref)
        else:
            text = command_to_text(given.text) if channel == "telegram" else given.text
            msg = InboundMessage(channel, address, f"real-{i}", text=text)
        out.append(handle_inbound(store, msg, now + i * timedelta(seconds=1)).replies)
    return invitation, out


def _by_step(sim):
    steps: dict[int, list] = {}
    for item in sim.items:
        if item.who == "service":
            steps.setdefault(item.step, []).append(item.shown)
    return steps


def test_every_sms_message_is_byte_identical_to_the_sms_channel_and_its_segments_match(store, now):
    inputs = texts(["yes", "no", "eleven", "7", "It was fine – thanks “a lot”", "LANGUAGE", "2", "SKIP", "no"])
    sim = simulate(store, OP, "service-experience", sim_settings(now, ask_consent=True), inputs, SCREENS)
    invitation, replies = _real_run(store, now, "sms", "+447700900123", inputs)
    shown = _by_step(sim)
    for step, real in enumerate([invitation, *replies]):
        expected = [render_sms(r) for r in real]
        got = shown.get(step, [])
        assert [s.text.encode() for s in got] == [e.encode() for e in expected], f"step {step}"
        for s, r in zip(got, real):
            cost = count_segments(render_sms(r))
            assert (s.segments, s.encoding, s.units) == (cost.segments, cost.encoding, cost.units) \
                == (sms_cost(r).segments, sms_cost(r).encoding, sms_cost(r).units)
    assert sim.finished and len(shown) == len(inputs) + 1


def test_every_telegram_message_and_its_buttons_match_the_bot_renderer(store, now):
    sim = simulate(store, OP, "service-experience", sim_settings(now, "telegram", ask_consent=True), [], SCREENS)
    consent = sim.items[-1]
    inputs = [SimInput(press=consent.shown.buttons[0][0].data, on=consent.index)]        # yes
    sim = simulate(store, OP, "service-experience", sim_settings(now, "telegram", ask_consent=True), inputs, SCREENS)
    quote = sim.items[-1]
    inputs += [SimInput(press=quote.shown.buttons[0][1].data, on=quote.index)]           # no
    inputs += texts(["eleven", "8", "/skip", "/language", "Español", "3", "/help", "sí"])
    sim = simulate(store, OP, "service-experience", sim_settings(now, "telegram", ask_consent=True), inputs, SCREENS)
    invitation, replies = _real_run(store, now, "telegram", "424242", inputs)
    shown = _by_step(sim)
    for step, real in enumerate([invitation, *replies]):
        messages = real if step == 0 else coalesce(real)       # invitations go one outbox row each
        expected = []
        for message in messages:
            text, markup = render(message)
            rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard] if markup else []
            expected.append((text, rows))
        got = [(s.text, [[(b.label, b.data) for b in row] for row in s.buttons]) for s in shown.get(step, [])]
        if step in (0, 1):
            # The consent questions were pressed since: the bot's own edit (text_after_press) with the buttons gone.
            pressed = inputs[step].press
            label = next(label for row in expected[-1][1] for label, data in row if data == pressed)
            expected[-1] = (text_after_press(expected[-1][0], label), [])
        assert got == expected, f"step {step}"
    assert sim.finished


# ---- the sandbox never touches the real store ----------------------------------------------------------------
def _counts(store) -> dict[str, int]:
    with store.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in m.Base.metadata.sorted_tables}


def test_nothing_real_changes(store, now):
    before = _counts(store)
    for channel in ("sms", "telegram"):
        simulate(store, OP, "service-experience", sim_settings(now, channel), texts(WALK), SCREENS)
        simulate(store, OP, "service-experience", sim_settings(now, channel, ask_consent=True),
                 texts(["yes", "yes", "2", "I want to kill myself", "DELETE", "DELETE"]), SCREENS)
        simulate(store, OP, "service-experience", sim_settings(now, channel), texts(["STOP", "hello", "START"]), SCREENS)
    assert _counts(store) == before
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(m.Answer)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(m.Flag)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(m.Message)).scalar_one() == 0


def test_sandbox_flags_say_nothing_in_the_real_logs(store, now, caplog):
    caplog.set_level(logging.WARNING)
    youth = sim_settings(now, organisation="youth")      # youth has no safeguarding contact: NOBODY IS ALERTED
    sim = simulate(store, OP, "service-experience", youth, texts(["2", "I want to kill myself"]), SCREENS)
    assert sim.steps[-1].answers[0].flag == ("suicide",)
    assert service_texts(sim)[-2].startswith("Thank you for telling us. Messages here are not read straight away")
    assert "NOBODY IS ALERTED" not in caplog.text


# ---- settings, access, restart ----------------------------------------------------------------------------------
def test_who_may_simulate_and_as_whom(store, now):
    for scope in (Scope("governance"), Scope("safeguarding", frozenset({store.orgs["river"]}))):
        with pytest.raises(Forbidden):
            simulate(store, scope, "service-experience", sim_settings(now), [], SCREENS)
    youth_staff = Scope("staff", frozenset({store.orgs["youth"]}), 9, "y")
    with pytest.raises(SimulatorError, match="organisation 'river'") as caught:
        simulate(store, youth_staff, "service-experience", sim_settings(now), [], SCREENS)
    assert caught.value.field == "organisation"
    assert simulate(store, youth_staff, "service-experience", sim_settings(now, organisation="youth"), [], SCREENS).items
    with pytest.raises(SimulatorError, match="no survey 'nope'"):
        simulate(store, OP, "nope", sim_settings(now), [], SCREENS)


@pytest.mark.parametrize("change, field, message", [
    ({"channel": "fax"}, "channel", "choose SMS or Telegram"),
    ({"language": "fr"}, "language", "the survey is in en, es"),
    ({"timezone": "Mars/Olympus"}, "timezone", "unknown"),
    ({"start_at": "why"}, "start_at", "the survey has recommend"),
    ({"start_at": "heard_about", "ask_consent": True}, "start_at", "needs consent already given"),
    ({"start_at": "heard_about", "earlier": (("recommend", "lots"),)}, "earlier-recommend",
     "'lots' is not an answer to recommend (a number from 0 to 10)"),
    ({"earlier": (("recommend", "5"),)}, "earlier-recommend", "apply when you start at a later question"),
])
def test_settings_errors_name_their_field(store, now, change, field, message):
    settings = sim_settings(now, **{k: v for k, v in change.items() if k != "channel"})
    if "channel" in change:
        settings = replace(settings, channel=change["channel"])
    with pytest.raises(SimulatorError, match=re.escape(message)) as caught:
        simulate(store, OP, "service-experience", settings, [], SCREENS)
    assert caught.value.field == field


def test_restart_at_a_question_with_the_answers_so_far(store, now):
    sim = simulate(store, OP, "service-experience", sim_settings(now, language="es", timezone="Europe/Madrid"),
                   texts(["3", "más personal"]), SCREENS)
    assert sim.asked[2] == "heard_about"
    again = restart_settings(sim, 1)                              # the question asked after step 1: do_better
    assert again.start_at == "do_better" and dict(again.earlier) == {"recommend": "3"}
    restarted = simulate(store, OP, "service-experience", again, texts(["nada"]), SCREENS)
    assert service_texts(restarted)[0] == "Gracias por tu sinceridad. ¿Qué podríamos hacer mejor?"
    assert [(a.question, a.value) for a in restarted.earlier] == [("recommend", "3")]
    assert restarted.steps[0].answers[0].question == "do_better"
    assert restarted.settings.timezone == "Europe/Madrid"


def test_a_replay_is_deterministic_and_fast_enough(store, now):
    inputs = texts(["3", "more staff", "LANGUAGE", "1", "HELP", "SKIP", "yes"] + ["hello"] * 43)
    simulate(store, OP, "service-experience", sim_settings(now), inputs[:3], SCREENS)      # warm the caches
    started = time.perf_counter()
    first = simulate(store, OP, "service-experience", sim_settings(now), inputs, SCREENS)
    took = time.perf_counter() - started
    second = simulate(store, OP, "service-experience", sim_settings(now), inputs, SCREENS)
    assert [i.shown for i in first.items if i.shown] == [i.shown for i in second.items if i.shown]
    assert first.steps == second.steps
    assert took < 3.0, f"50 inputs replayed in {took:.2f}s"


def test_a_draft_is_tried_before_it_is_published_and_nothing_real_changes(store, now, settings):
    from config.wiring import survey_checks
    from surveys import designer

    river = Scope("staff", frozenset({store.orgs["river"]}), None, "Rita")
    design = designer.new_design(store, river, "river-new", "River new", now)
    checks = survey_checks(settings)
    designer.save_draft(store, river, "river-new", design.yaml_text.replace("How was your visit", "How did it go"),
                        now, checks)
    before = _counts(store)
    sim = simulate(store, river, "river-new", sim_settings(now, draft=True), texts(["2", "more staff"]), SCREENS)
    shown = service_texts(sim)
    assert shown[1].startswith("How did it go") and sim.finished
    assert [a.value for s in sim.steps for a in s.answers] == ["2", "more staff"]
    assert _counts(store) == before                                      # the draft stays a draft; nothing stored
    with pytest.raises(SimulatorError, match="no survey"):               # the published path knows no such survey
        simulate(store, river, "river-new", sim_settings(now), [], SCREENS)
    designer.save_draft(store, river, "river-new", "id: river-new\ntitle: [", now, checks)
    with pytest.raises(SimulatorError, match="the draft has problems"):
        simulate(store, river, "river-new", sim_settings(now, draft=True), [], SCREENS)
    with pytest.raises(Forbidden):                                       # another organisation's draft
        simulate(store, Scope("staff", frozenset({store.orgs["youth"]}), None, "Yan"), "river-new",
                 sim_settings(now, draft=True, organisation="youth"), [], SCREENS)


def _counts(store) -> dict:
    with store.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in m.Base.metadata.sorted_tables}
