"""The survey simulator: take a survey as a participant, through the real service, on a sandbox.

A simulation never touches the real store's rows. Each run builds a **sandbox**: a private in-memory SQLite
database with the same schema (the models' metadata, which tests/test_store.py proves equal to the
migrations), into which the survey's version, the simulated person's organisation and that organisation's
safeguarding contacts are copied. The simulated person is enrolled there, the survey is started for them as
a wave's invitation starts it (`start_in`), and every input goes through `surveys.service.handle_inbound`
on the sandbox store, with the real store's answer tagger (sentiment and safeguarding run as for real).
Nothing reads the sandbox but the simulator, and nothing in it is ever sent: alerts and replies stay rows
of a database that is dropped when the run returns.

**Stateless replay.** A simulation is its settings plus the list of inputs typed or pressed so far; the
console carries both in the page (hidden fields) and every request replays them into a fresh sandbox. So
there is no server-side state to lose between web workers or restarts, and "restart at any question" is
just other settings. Time is fixed by the settings too (`started`; step i happens i seconds later), so a
replay gives the same transcript every time. The cost is one sandbox per request: copying an empty
template database (a fraction of a millisecond), a few inserts, then about a millisecond per input (the
service's transaction plus the tagger): a 50-step simulation replays in well under a second
(`tests/test_simulator.py::test_a_replay_is_deterministic_and_fast_enough` keeps an eye on it). Inputs are capped at
MAX_INPUTS.

**Channels.** How a message looks is each channel's own business: the console asks the composition root for
a `Screen` per channel (config/wiring.py builds them from sms/ and bot/), and the simulator hands every reply
to it. SMS shows each reply as sent (numbered choices, segments); Telegram joins replies to a message as the
bot does and shows its buttons; invitations go one message per outbox row, as the worker sends them.

Access: backbone admins and organisation staff (`Scope.sees_rows`); staff simulate only as a person of their
own organisations, and only surveys whose audience reaches one of them. Governance viewers and safeguarding
leads cannot use it (a safeguarding lead reads flags; they do not author surveys).
"""
from __future__ import annotations

import contextvars
import logging
import sqlite3
import threading
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from datetime import datetime, timedelta
from typing import Mapping, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select, update

from surveys import designer, engine
from surveys import models as m
from surveys.conversations import ServiceError, start_in
from surveys.definition import Survey as SurveyDefinition
from surveys.engine import OutgoingMessage
from surveys.loader import SurveyError, load_survey_text
from surveys.scope import Forbidden, Scope
from surveys.service import InboundMessage, handle_inbound, pending_prompts
from surveys.store import Store, make_private_sqlite_engine

MAX_INPUTS = 200          # inputs replayed per request: a survey is a few questions, and a replay is O(inputs)
MAX_INPUT_CHARS = 1600    # an SMS of 10 concatenated segments; Telegram takes more, nobody answers with more
STEP = timedelta(seconds=1)
CHANNELS = ("sms", "telegram")
CHANNEL_LABELS = {"sms": "SMS", "telegram": "Telegram"}
# Addresses of the simulated person: an Ofcom drama number and a chat id no Telegram user has (ids are > 0;
# this one is of a made-up size). They exist only in the sandbox.
SIM_ADDRESS = {"sms": "+447700900999", "telegram": "999000999"}


class SimulatorError(ValueError):
    """A setting or an input the simulator cannot use; `field` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---- what a channel shows (implemented by the channels, injected by the composition root) --------------
@dataclass(frozen=True)
class Button:
    label: str
    data: str   # what a press sends back (Telegram's callback data)


@dataclass(frozen=True)
class Shown:
    """One message as the channel delivers it: its exact text, and either its buttons (Telegram) or what it
    costs (SMS: segments, the encoding they go in and the length in that encoding's units)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    segments: int | None = None
    encoding: str | None = None
    units: int | None = None


class Screen(Protocol):
    """A channel's rendering, for the simulator. `show(replies, inline)`: the messages the channel would send
    for `replies` (inline: answering a message the person sent; otherwise one outbox row each, as an
    invitation goes). `typed(text)`: what the channel's inbound side makes of typed text (Telegram reads
    /commands). `press(data)`: (ref, value) of a button press, or None. `after_press(shown, data)`: the
    pressed message as it looks afterwards. `closed(reason, language)`: what a press that changed nothing
    is answered with."""

    name: str
    buttons: bool

    def show(self, replies: list[OutgoingMessage], inline: bool) -> list[Shown]: ...

    def typed(self, text: str) -> str: ...

    def press(self, data: str) -> tuple[str, str] | None: ...

    def after_press(self, shown: Shown, data: str) -> Shown: ...

    def closed(self, reason: str | None, language: str) -> str: ...


# ---- settings and inputs ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimSettings:
    channel: str
    organisation: str                      # join code
    language: str
    started: datetime
    timezone: str | None = None            # None: the organisation's
    start_at: str | None = None            # a question key; None: from the invitation
    earlier: tuple[tuple[str, str], ...] = ()   # (question key, answer as typed) recorded before start_at
    ask_consent: bool = False              # as someone staff added: consent is asked before the survey
    draft: bool = False                    # the designer's saved draft instead of the published version


@dataclass(frozen=True)
class SimInput:
    """Typed text, or a press on button `data` of the chat item `on` (Telegram)."""

    text: str | None = None
    press: str | None = None
    on: int | None = None


# ---- what a run returns ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnswerFact:
    question: str | None
    status: str
    raw: str | None
    value: str | None
    sentiment: str | None
    polarity: float | None
    flag: tuple[str, ...] | None        # categories, when the answer raised a safeguarding flag
    flag_layer: str | None


@dataclass
class ChatItem:
    index: int
    who: str                    # person | service | notice
    shown: Shown | None = None  # the service's message as the channel shows it
    said: str | None = None     # what the person typed, or the label of the button they pressed
    step: int = 0               # the input that produced it (0: the invitation)


@dataclass(frozen=True)
class StepFacts:
    step: int
    said: str
    answers: tuple[AnswerFact, ...]
    question: str | None        # the question asked after this step (None: no conversation open)
    conversation: str | None    # the conversation's status after the step: open, completed, stopped, expired
    language: str
    opted_out: bool
    notice: str | None = None


@dataclass
class Simulation:
    survey: SurveyDefinition
    settings: SimSettings
    items: list[ChatItem] = field(default_factory=list)
    steps: list[StepFacts] = field(default_factory=list)
    earlier: tuple[AnswerFact, ...] = ()
    asked: dict[int, str] = field(default_factory=dict)   # step -> the question asked after it (to restart there)

    @property
    def finished(self) -> bool:
        last = self.steps[-1] if self.steps else None
        return last is not None and last.conversation not in (None, "open")


@dataclass(frozen=True)
class OrganisationChoice:
    id: int
    code: str
    name: str
    language: str
    timezone: str


@dataclass(frozen=True)
class SimulatorSetup:
    survey: SurveyDefinition
    version_id: int | None                 # None: the draft (surveys.designer), never published as it is
    version_number: int | None
    organisations: tuple[OrganisationChoice, ...]


# ---- access and setup -----------------------------------------------------------------------------------------
def simulator_setup(db: Store, scope: Scope, survey_id: str, draft: bool = False) -> SimulatorSetup:
    """The survey's current version (or, with `draft`, its saved draft, which must have no problems) and the
    organisations this scope may simulate a person of. Raises SimulatorError (no such survey or draft, or a
    draft with problems) or Forbidden."""
    scope.require(scope.sees_rows, "use the survey simulator")
    S, V, O = m.Survey.__table__, m.SurveyVersion.__table__, m.Organisation.__table__
    if draft:
        survey = _draft_survey(db, scope, survey_id)
        version_id = number = None
    with db.read() as conn:
        if not draft:
            version_id = conn.execute(select(S.c.current_version_id).where(S.c.id == survey_id)).scalar()
            if version_id is None:
                raise SimulatorError(f"no survey {survey_id!r}")
            survey = db.survey_version(conn, version_id)
            number = conn.execute(select(V.c.number).where(V.c.id == version_id)).scalar_one()
        rows = conn.execute(select(O.c.id, O.c.code, O.c.name, O.c.language, O.c.timezone, O.c.code_key)
                            .order_by(O.c.name)).all()
    audience = {o.casefold() for o in (survey.audience.organisations if survey.audience else ())}
    reach = [r for r in rows if not audience or r.code_key in audience]
    mine = [r for r in reach if scope.covers(r.id)]
    if not mine:
        raise Forbidden(f"survey {survey_id!r} does not reach any organisation of yours")
    return SimulatorSetup(survey, version_id, number,
                          tuple(OrganisationChoice(r.id, r.code, r.name, r.language, r.timezone) for r in mine))


def _draft_survey(db: Store, scope: Scope, survey_id: str) -> SurveyDefinition:
    """The saved draft as a survey, read through the designer (its access rules); it must load without problems."""
    try:
        design = designer.open_design(db, scope, survey_id)
    except designer.DesignError as exc:
        raise SimulatorError(str(exc)) from None
    if not design.is_draft:
        raise SimulatorError(f"survey {survey_id!r} has no draft")
    try:
        return load_survey_text(design.yaml_text, f"{survey_id}.yaml")
    except SurveyError:
        raise SimulatorError("the draft has problems: fix them in the designer, then try it here", "draft") from None


def check_settings(setup: SimulatorSetup, s: SimSettings) -> OrganisationChoice:
    """The organisation chosen; SimulatorError naming the field for anything the simulator cannot use."""
    survey = setup.survey
    if s.channel not in CHANNELS:
        raise SimulatorError(f"channel {s.channel!r}: choose SMS or Telegram", "channel")
    org = next((o for o in setup.organisations if o.code.casefold() == (s.organisation or "").casefold()), None)
    if org is None:
        raise SimulatorError(f"organisation {s.organisation!r}: choose one of "
                             + ", ".join(o.code for o in setup.organisations), "organisation")
    if s.language not in survey.languages:
        raise SimulatorError(f"language {s.language!r}: the survey is in " + ", ".join(survey.languages), "language")
    if s.timezone:
        try:
            ZoneInfo(s.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SimulatorError(f"timezone {s.timezone!r}: unknown (use an IANA name such as Europe/London)",
                                 "timezone") from None
    keys = [q.key for q in survey.questions]
    if s.start_at and s.start_at not in keys:
        raise SimulatorError(f"question {s.start_at!r}: the survey has " + ", ".join(keys), "start_at")
    if s.start_at and s.ask_consent:
        raise SimulatorError("starting at a question needs consent already given (untick 'ask for consent first')",
                             "start_at")
    for key, text in s.earlier:
        if key not in keys:
            raise SimulatorError(f"question {key!r}: the survey has " + ", ".join(keys), f"earlier-{key}")
        if not s.start_at:
            raise SimulatorError("earlier answers apply when you start at a later question", f"earlier-{key}")
        if key == s.start_at:
            raise SimulatorError(f"{key} is the question you start at: it cannot have an earlier answer", f"earlier-{key}")
        if len(text) > MAX_INPUT_CHARS:
            raise SimulatorError(f"at most {MAX_INPUT_CHARS} characters", f"earlier-{key}")
        q = survey.question(key)
        if engine.read_answer(q, text, (s.language, *survey.languages, "en")) is None:
            raise SimulatorError(f"{text!r} is not an answer to {key} ({_expects(q)})", f"earlier-{key}")
    return org


def _expects(q) -> str:
    if q.type == "nps":
        return "a number from 0 to 10"
    if q.type == "scale":
        return f"a number from {q.min} to {q.max}"
    if q.type == "yesno":
        return "yes or no"
    if q.type == "choice":
        return "one of " + ", ".join(c.key for c in q.choices)
    return "some words"


# ---- the run ------------------------------------------------------------------------------------------------
def simulate(db: Store, scope: Scope, survey_id: str, settings: SimSettings, inputs: list[SimInput],
             screens: Mapping[str, Screen]) -> Simulation:
    """Replay `inputs` as a participant of `settings` on a fresh sandbox; everything each step showed and
    stored. Raises SimulatorError (a setting, naming its field, or an input that cannot be replayed: field
    'inputs') or Forbidden."""
    setup = simulator_setup(db, scope, survey_id, draft=settings.draft)
    org = check_settings(setup, settings)
    if len(inputs) > MAX_INPUTS:
        raise SimulatorError(f"a simulation takes at most {MAX_INPUTS} messages: restart it", "inputs")
    screen = screens.get(settings.channel)
    if screen is None:
        raise SimulatorError(f"the {CHANNEL_LABELS[settings.channel]} screen is not available here", "channel")
    with _sandbox(db) as box:
        return _run(db, box, setup, org, settings, inputs, screen)


class _Sandbox:
    def __init__(self, real: Store):
        self.conn = _fresh_database()
        self.store = real.over(make_private_sqlite_engine(lambda: self.conn))

    def close(self) -> None:
        self.store.sql_engine.dispose()
        self.conn.close()


class _sandbox:
    def __init__(self, real: Store):
        self.real = real

    def __enter__(self) -> _Sandbox:
        self.box = _Sandbox(self.real)
        self.token = _IN_SANDBOX.set(True)
        return self.box

    def __exit__(self, *exc) -> None:
        _IN_SANDBOX.reset(self.token)
        self.box.close()


_template: sqlite3.Connection | None = None
_template_lock = threading.Lock()


def _fresh_database() -> sqlite3.Connection:
    """A new in-memory database with the whole schema: a copy of a template made once per process (creating
    the schema takes tens of milliseconds; copying it, a fraction of one)."""
    global _template
    with _template_lock:
        if _template is None:
            template = sqlite3.connect(":memory:", check_same_thread=False)
            sql_engine = make_private_sqlite_engine(lambda: template)
            m.Base.metadata.create_all(sql_engine)
            _template = template
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        _template.backup(conn)
    return conn


def _run(real: Store, box: _Sandbox, setup: SimulatorSetup, org: OrganisationChoice, s: SimSettings,
         inputs: list[SimInput], screen: Screen) -> Simulation:
    sb = box.store
    now = s.started
    address = SIM_ADDRESS[s.channel]
    sim = Simulation(setup.survey, s)
    contact_id, conv_id, replies = _seed(real, sb, setup, org, s, address, now)
    for shown in screen.show(replies, inline=False):
        sim.items.append(ChatItem(len(sim.items), "service", shown=shown))
    sim.earlier = _answers_where(sb, m.Answer.__table__.c.message_id.is_(None))
    sim.asked[0] = _state(sb, contact_id)[0] or ""
    language = s.language
    for i, given in enumerate(inputs, 1):
        now = s.started + i * STEP
        msg, said = _inbound(sim, screen, given, address, i, now)
        sim.items.append(ChatItem(len(sim.items), "person", said=said, step=i))
        handled = handle_inbound(sb, msg, now)
        notice = None
        if msg.kind == "button":
            if handled.ignored or handled.contact_id is None:
                notice = screen.closed(handled.ignored or "stale button", language)
            else:
                pressed = sim.items[given.on]
                pressed.shown = screen.after_press(pressed.shown, given.press)
        if notice:
            sim.items.append(ChatItem(len(sim.items), "notice", said=notice, step=i))
        for shown in screen.show(handled.replies, inline=True):
            sim.items.append(ChatItem(len(sim.items), "service", shown=shown, step=i))
        question, status, language, opted_out = _state(sb, contact_id)
        inbound_id = _inbound_id(sb, msg)
        answers = _answers_where(sb, m.Answer.__table__.c.message_id == inbound_id) if inbound_id else ()
        sim.steps.append(StepFacts(i, said, answers, question, status, language, opted_out, notice))
        if question:
            sim.asked[i] = question
    return sim


def _inbound(sim: Simulation, screen: Screen, given: SimInput, address: str, i: int,
             now: datetime) -> tuple[InboundMessage, str]:
    external_id = f"sim-{i}"
    if given.press is not None:
        on = given.on
        item = sim.items[on] if on is not None and 0 <= on < len(sim.items) else None
        labels = {b.data: b.label for row in (item.shown.buttons if item and item.shown else ()) for b in row}
        parsed = screen.press(given.press) if given.press in labels else None
        if parsed is None:
            raise SimulatorError(f"input {i}: that button is not on the screen; restart the simulation", "inputs")
        ref, value = parsed
        return (InboundMessage(sim.settings.channel, address, external_id, text=value, kind="button", ref=ref,
                               received_at=now), labels[given.press])
    text = given.text or ""
    if len(text) > MAX_INPUT_CHARS:
        raise SimulatorError(f"a message of at most {MAX_INPUT_CHARS} characters", "inputs")
    return InboundMessage(sim.settings.channel, address, external_id, text=screen.typed(text), received_at=now), text


def _seed(real: Store, sb: Store, setup: SimulatorSetup, org: OrganisationChoice, s: SimSettings, address: str,
          now: datetime) -> tuple[int, int | None, list[OutgoingMessage]]:
    """Copy what the run needs into the sandbox, enrol the simulated person and start the survey for them
    as an invitation does. Returns (contact id, conversation id, the messages the invitation sends)."""
    O, S, V, SC = (m.Organisation.__table__, m.Survey.__table__, m.SurveyVersion.__table__,
                   m.SafeguardingContact.__table__)
    with real.read() as conn:
        o = conn.execute(select(O).where(O.c.id == org.id)).one()
        survey = conn.execute(select(S).where(S.c.id == setup.survey.id)).one_or_none()
        version = conn.execute(select(V).where(V.c.id == setup.version_id)).one() if setup.version_id else None
    if survey is None or version is None:        # the draft: a version of its own, in the sandbox only
        d = setup.survey
        survey = survey or SimpleNamespace(id=d.id, title=d.title, created_at=now)
        version = SimpleNamespace(id=1 + (setup.version_id or 0), survey_id=d.id, number=0, label=d.version,
                                  content_hash=d.content_hash, definition=d.to_dict(), created_at=now)
    with real.read() as conn:
        watchers = conn.execute(select(SC.c.organisation_id, SC.c.channel, SC.c.address)
                                .where((SC.c.organisation_id == org.id) | SC.c.organisation_id.is_(None))).all()
    with sb.write() as conn:
        conn.execute(insert(O).values(id=o.id, name=o.name, code=o.code, code_key=o.code_key, timezone=o.timezone,
                                      language=o.language, welcome_survey_id=None, created_at=o.created_at))
        conn.execute(insert(S).values(id=survey.id, title=survey.title, current_version_id=None,
                                      created_at=survey.created_at))
        conn.execute(insert(V).values(id=version.id, survey_id=version.survey_id, number=version.number,
                                      label=version.label, content_hash=version.content_hash,
                                      definition=version.definition, created_at=version.created_at))
        conn.execute(update(S).where(S.c.id == survey.id).values(current_version_id=version.id))
        if watchers:
            # So the person is told what they would be told for real ("a person will read this" only when a
            # safeguarding contact is alerted). The alerts stay rows of the sandbox: nothing sends from it.
            conn.execute(insert(SC), [dict(organisation_id=w.organisation_id, channel=w.channel, address=w.address,
                                           created_at=now) for w in watchers])
        C, E = m.Contact.__table__, m.Enrolment.__table__
        contact_id = conn.execute(insert(C).values(
            channel=s.channel, address=address, address_hash=sb.address_hash(s.channel, address),
            language=s.language, timezone=s.timezone or None, created_at=now)).inserted_primary_key[0]
        consent = "pending" if s.ask_consent else "given"
        enrolment_id = conn.execute(insert(E).values(
            contact_id=contact_id, organisation_id=org.id, consent_status=consent,
            consent_participate=not s.ask_consent, consent_quote=False, source="simulator", tags=[],
            created_at=now)).inserted_primary_key[0]
        try:
            replies, conv_id = start_in(sb, conn, contact_id, version.id, now)
        except ServiceError as exc:  # pragma: no cover - a fresh sandbox person can always be asked
            raise SimulatorError(str(exc)) from None
        if s.start_at and conv_id is not None:
            _start_at(sb, conn, setup.survey, s, contact_id, enrolment_id, org.id, version.id, conv_id, now)
    if s.start_at:
        replies = pending_prompts(sb, contact_id)
    return contact_id, conv_id, replies


def _start_at(sb: Store, conn, survey: SurveyDefinition, s: SimSettings, contact_id: int, enrolment_id: int,
              org_id: int, version_id: int, conv_id: int, now: datetime) -> None:
    """Move the new conversation to `s.start_at` and record the earlier answers given, as answers of this
    conversation (the tagger's context reads them, as it reads a real conversation's numbers so far)."""
    CV, A = m.Conversation.__table__, m.Answer.__table__
    conn.execute(update(CV).where(CV.c.id == conv_id).values(question=s.start_at, attempts=0))
    languages = (s.language, *survey.languages, "en")
    for key, text in s.earlier:
        q = survey.question(key)
        value = engine.read_answer(q, text, languages)
        num, txt = _values(value)
        conn.execute(insert(A).values(
            conversation_id=conv_id, contact_id=contact_id, enrolment_id=enrolment_id, organisation_id=org_id,
            survey_id=survey.id, survey_version_id=version_id, message_id=None, question_key=key,
            question_type=q.type, status="answered", raw_text=text, value_num=num, value_text=txt,
            language=s.language, answered_at=now, tags=None))


def _values(value) -> tuple[float | None, str | None]:
    if isinstance(value, bool):
        return (1.0 if value else 0.0), ("yes" if value else "no")
    if isinstance(value, (int, float)):
        return float(value), None
    return None, value if isinstance(value, str) else None


def _state(sb: Store, contact_id: int) -> tuple[str | None, str | None, str, bool]:
    """(question being asked, the latest conversation's status, language, opted out) of the simulated person."""
    C, CV = m.Contact.__table__, m.Conversation.__table__
    with sb.read() as conn:
        contact = conn.execute(select(C.c.language, C.c.opted_out_at).where(C.c.id == contact_id)).first()
        conv = conn.execute(select(CV.c.status, CV.c.question).where(CV.c.contact_id == contact_id)
                            .order_by(CV.c.id.desc()).limit(1)).first()
    if contact is None:   # DELETE confirmed: the person is gone, with everything they said
        return None, "erased", "", False
    question = conv.question if conv is not None and conv.status == "open" else None
    return question, conv.status if conv is not None else None, contact.language, contact.opted_out_at is not None


def _inbound_id(sb: Store, msg: InboundMessage) -> int | None:
    M = m.Message.__table__
    with sb.read() as conn:
        return conn.execute(select(M.c.id).where(M.c.channel == msg.channel, M.c.external_id == msg.external_id)).scalar()


def _answers_where(sb: Store, where) -> tuple[AnswerFact, ...]:
    A, F = m.Answer.__table__, m.Flag.__table__
    with sb.read() as conn:
        rows = conn.execute(select(A.c.question_key, A.c.status, A.c.raw_text, A.c.value_num, A.c.value_text,
                                   A.c.tags, F.c.categories, F.c.layer)
                            .select_from(A.outerjoin(F, F.c.answer_id == A.c.id)).where(where).order_by(A.c.id)).all()
    out = []
    for r in rows:
        tags = r.tags or {}
        value = r.value_text if r.value_text is not None else (
            None if r.value_num is None else f"{r.value_num:g}")
        polarity = tags.get("polarity")
        out.append(AnswerFact(r.question_key, r.status, r.raw_text, value, tags.get("label"),
                              None if polarity is None else float(polarity),
                              tuple(r.categories) if r.categories is not None else None, r.layer))
    return tuple(out)


# Safeguarding warnings from a sandbox ("flag #1 raised ... NOBODY IS ALERTED") are about a database that is
# gone a moment later: they must not reach the real logs, where people act on them.
_IN_SANDBOX: contextvars.ContextVar[bool] = contextvars.ContextVar("chorus_simulator", default=False)


class _SandboxFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _IN_SANDBOX.get()


logging.getLogger("surveys.flags").addFilter(_SandboxFilter())


def restart_settings(sim: Simulation, step: int) -> SimSettings:
    """Settings that restart `sim` at the question it asked after `step`, with the answers it stored before
    that as earlier answers (the ones stored by steps up to `step`, plus the earlier answers it started with)."""
    question = sim.asked.get(step)
    if not question:
        raise SimulatorError("no question was being asked then", "start_at")
    earlier: dict[str, str] = {a.question: a.raw for a in sim.earlier if a.question and a.raw is not None}
    for facts in sim.steps[:step]:
        for a in facts.answers:
            if a.question and a.status == "answered" and a.raw is not None:
                earlier[a.question] = a.raw
    earlier.pop(question, None)
    return replace(sim.settings, start_at=question, earlier=tuple(earlier.items()), ask_consent=False)
