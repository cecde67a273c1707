"""`chorus demo`: eight weeks of realistic demo data, stored through the real code paths, so that a new
installation shows a full digest at once.

Three organisations (a food bank, an advice centre, a youth drop-in) enrol made-up participants on the
"local" channel, with numbers from Ofcom's drama range (+447700900000-999, never real ones). Then, week by
week, the demo does what the running service would have done, at that week's time: the waves are made
(`surveys.waves`), the worker starts and "sends" the invitations (`surveys.outbox.Worker`, through a
channel that delivers nowhere), the clock's ticks send reminders and expire stale conversations
(`surveys.housekeeping`), and each participant answers through `surveys.service.handle_inbound` at a
plausible time: consent first, then short replies as people text (lowercase, typos, emoji), scores that
match their words, some stopping midway, a few STOPs. The store's real tagger labels sentiment and raises
safeguarding flags, so three planted answers raise flags as in production; the oldest is closed with a note.

The surveys are the examples in surveys/examples, plus "visit-feedback": the service-experience example
sent, without a schedule, to the demo organisations on the local channel (the example's audience is SMS and
Telegram only). It goes out the day after each weekly check-in, to everyone not still in that check-in.

Deterministic for a seed and a `now`; the newest demo week is the last complete ISO week before `now` in the
partnership's timezone. At the end the clock is brought up to `now` (`due_waves`, silently sent), so that
`chorus run` has nothing of the demo left to print. Loaded once: the demo organisations' join codes mark it.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
import time as _time
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from surveys import admin, flags
from surveys import models as m
from surveys.definition import Audience
from surveys.definition import Survey as SurveyDefinition
from surveys.housekeeping import expire_stale, send_reminders
from surveys.loader import load_survey_file, parse_survey
from surveys.outbox import Worker
from surveys.schedule import local_to_utc, occurrences
from surveys.schedule_rule import parse_schedule_rule
from surveys.service import InboundMessage, handle_inbound
from surveys.store import Store
from surveys.waves import create_wave, due_waves

EXAMPLES = Path(__file__).resolve().parent.parent / "surveys" / "examples"
WEEKLY = "weekly-checkin"
VISIT = "visit-feedback"
FIRST_NUMBER = 200        # +447700900200 on: clear of +447700900123, the chat's default address
LAST_NUMBER = 999         # the end of Ofcom's drama range
# The demo clock's ticks after each weekly wave, in hours: the real clock ticks every 30 s, but reminders
# (after 6 and 24 h) and expiry (48 and 72 h) need only this many to go out on time, give or take a tick.
TICKS = (*range(6, 85, 6), 120, 160)


class DemoError(Exception):
    pass


@dataclass(frozen=True)
class DemoOrg:
    code: str
    name: str
    topic: str            # which answer pools its people draw from
    response: float       # typical chance that someone answers a week's check-in
    mood: float           # typical mood, 0 (very hard) to 1 (very good)
    waits_rise: bool      # waiting-time complaints rise in the last weeks
    tags: tuple[str, ...]


ORGS = (
    DemoOrg("demo-foodbank", "Riverside Food Bank", "food", 0.64, 0.62, True, ("tuesday", "thursday")),
    DemoOrg("demo-advice", "Northgate Advice Centre", "advice", 0.56, 0.55, True, ("benefits", "debt", "housing")),
    DemoOrg("demo-youth", "The Hub Youth Drop-in", "youth", 0.5, 0.66, False, ("juniors", "seniors")),
)
DEMO_CODES = tuple(o.code for o in ORGS)

# Answers that a person reads and acts on: what the safeguarding lexicon (analysis/data/safeguarding/en.yaml)
# is there to catch. (organisation, weeks before the newest, text, closed by a person with a note)
PLANTED = (
    ("demo-advice", 5, "honestly i dont want to be here anymore. the debt letters just keep coming", True),
    ("demo-youth", 2, "my stepdad hits me when hes been drinking and i dont want to go home", False),
    ("demo-foodbank", 0, "i cant cope anymore, no gas no food and the kids keep asking", False),
)
CLOSED_BY = "Priya Shah (safeguarding lead)"
CLOSED_NOTE = ("Rang them back within the hour: safe, and talking to their GP today. Gave the Samaritans number "
               "(116 123) and booked a debt appointment for Thursday. Follow-up call on Monday.")


# ---- what people write ------------------------------------------------------------------------------
# Pools by topic and tone. "wait" complaints are about queues, waiting times and phone lines: their share
# rises over the last weeks at the food bank and the advice centre (the trend a digest should show).
TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "food": {
        "praise": (
            "volunteers are always so kind, never made me feel judged",
            "thank u so much the fresh veg this week was amazing",
            "lovely people, my kids loved the cereal",
            "got everything i needed thx",
            "the lady on the door was really nice to me, i was nervous first time",
            "really grateful, dont know what wed do without u",
            "fresh bread and fruit this week, brilliant",
            "staff sorted me a parcel even tho my voucher was late, thank you",
            "good as always",
            "friendly and quick today, hardly any queue",
            "the man who helped me carry the bags to the bus was a star",
            "brilliant service as usual",
            "the new volunteer was so helpful",
            "got toiletries too which really helped",
            "kids were so happy with the treats",
        ),
        "wait": (
            "queue was out the door again, waited over an hour in the rain",
            "waited 2 hrs and they ran out of nappies by the time i got in",
            "the wait is getting ridiculous, cant stand that long with my back",
            "queue round the corner on thursday, had to leave to get the kids from school",
            "too long waiting outside, theres nowhere to sit",
            "why is the queue so long now?? used to be 20 mins",
            "waited ages, the wait was killing me honestly",
            "QUEUE WAS HUGE. gave up and went home",
            "stood in the cold for 90 mins, not good enough",
            "queue is getting worse every week",
            "2 hour wait again, had to bring the baby with me",
        ),
        "complaint": (
            "only open tues and thurs mornings, i work then",
            "opening hours are no good for working people",
            "no fresh stuff left, just tins again",
            "parcel had out of date yoghurts in it",
            "no halal options again",
            "someone was a bit rude at the desk",
            "ran out of bread before i got in",
            "the referral form is so confusing",
        ),
        "mixed": (
            "staff lovely but the queue was terrible",
            "food was good but had to wait ages outside",
            "nice people, just wish u were open on saturdays",
            "good parcel, shame about the wait",
            "volunteers are great but you ran out of milk",
            "got what i needed but the queue was awful",
            "grateful for the food but the waiting is horrible",
        ),
        "suggest": (
            "open on a saturday pls",
            "a shorter queue",
            "somewhere to sit while we wait",
            "more fresh veg and less tins",
            "text us when its our turn instead of standing outside",
            "toiletries and nappies",
        ),
    },
    "advice": {
        "praise": (
            "my adviser was brilliant, sorted my PIP appeal",
            "helped me fill in the UC forms, would never have done it on my own",
            "thank u for helping with the council tax letter, huge weight off",
            "really kind and patient with me",
            "they got my benefits backdated, cant thank them enough",
            "felt listened to for once",
            "quick appointment and clear advice",
            "sarah was amazing with my housing problem",
            "best advice ive had, thank you",
            "helped me challenge the sanction and we won",
            "the debt adviser was great, payment plan all sorted",
        ),
        "wait": (
            "phone line always engaged, tried 12 times",
            "waited 3 weeks for an appointment",
            "on hold for 40 mins then got cut off",
            "waiting room was packed, waited 2 hours to be seen",
            "still waiting for a call back from last week",
            "cant ever get through on the phones",
            "took forever, the wait is way too long now",
            "tried phoning all morning, no answer",
            "next appointment is in 4 weeks, too long",
            "waited ages on the phone again, terrible",
        ),
        "complaint": (
            "adviser didnt seem to know about my situation",
            "had to tell my story 3 times to different people",
            "closed at lunchtime when i could actually come in",
            "nobody replied to my email",
            "they said they would ring and never did",
            "they lost my documents",
            "felt rushed in my appointment",
        ),
        "mixed": (
            "good advice but it took forever to get seen",
            "adviser was lovely but the phone line is a nightmare",
            "helpful in the end, just slow",
            "sorted my letter but i had to chase it twice",
        ),
        "suggest": (
            "answer the phones",
            "evening appointments for people who work",
            "a call back system instead of waiting on hold",
            "let us book online",
            "more advisers",
        ),
    },
    "youth": {
        "praise": (
            "its class, the youth workers are sound",
            "love coming here, better than being at home",
            "jay helped me with my cv thx",
            "pizza night was gr8",
            "good vibes, everyones friendly",
            "football was mint",
            "staff actually listen to u",
            "the trip to the climbing wall was the best",
            "best night of the week",
            "the staff are amazing, they helped me with college stuff",
            "really fun and everyone is nice",
        ),
        "wait": (
            "waited ages for a go on the pool table",
            "always a queue for the xbox",
            "had to wait outside for ages before they opened",
            "waited ages for the kitchen",
        ),
        "complaint": (
            "wifi never works",
            "always closed on fridays which is when i actually need it",
            "the older ones hog the xbox",
            "too crowded on weds, cant even sit down",
            "bare boring this week nothing to do",
            "pool table still broken",
            "the music is always way too loud",
            "nothing to eat when we got there",
        ),
        "mixed": (
            "good but the wifi is dead",
            "fun but too packed",
            "staff are nice but theres nothing to do sometimes",
            "liked the cooking but it finished too early",
        ),
        "suggest": (
            "more trips",
            "open fridays",
            "fix the wifi pls",
            "a music room would be class",
            "more food lol",
        ),
    },
}
HARD = {  # "What made it hard?": life first, the service second
    "food": (
        "rent went up again and the electric keeps running out",
        "kids been off sick all week and no money til friday",
        "universal credit got cut, dont know how im gonna manage",
        "had no gas for 3 days",
        "skint, had to choose between food and the meter",
        "my back is bad and i couldnt get to the doctor",
            "the meter ran out on sunday, freezing",
            "had to borrow money off my sister",
    ),
    "advice": (
        "the benefits letter stressed me out",
        "landlord wants us out by the end of the month",
        "lost my job on monday",
        "been feeling really low and not sleeping",
        "bailiffs letter came, scared to open the post",
        "my mums in hospital",
            "got a letter saying i owe the council money",
            "my PIP got stopped",
    ),
    "youth": (
        "exams and stuff at home",
        "fell out with my mates",
        "my mum and dad keep arguing",
        "got excluded for 2 days",
        "bored and skint",
        "didnt sleep much, worried about college",
            "my phone got nicked",
            "stressed about mocks",
    ),
}
NOTHING = ("no", "nope", "no thats all", "not really", "no thx", "nothing else", "thats it", "no ta", "nah ur alright")
NEUTRAL = ("i come on tuesdays usually", "first time this week", "will come next week", "my sister comes too",
           "got the text about my appointment", "i came in on monday", "came with my neighbour",
           "might not be in next week, working")
THANKS = ("thx", "ty", "thank u", "thanks x", "cheers")
EMOJI = {"praise": ("🙏", "😊", "❤️", "👍", "🙂"), "wait": ("😡", "🙄", "😤"), "complaint": ("🙄", "😒", "👎"),
         "mixed": ("🤷",), "hard": ("😔", "😢", "😞")}
SHORT = {"you": "u", "your": "ur", "please": "pls", "thanks": "thx", "because": "cos", "great": "gr8",
         "really": "rly", "people": "ppl", "tomorrow": "tmrw", "and": "n", "before": "b4"}
YES = ("yes", "yes", "yeah", "yep", "y", "Yes", "ok", "sure", "👍")
NO = ("no", "nope", "no thanks", "nah", "No")
STOPS = ("STOP", "stop", "Stop")
CHOICE_WORDS = {  # how people name the service-experience choices; some need a second try (a number)
    "friend": ("friend", "a friend told me", "my friend", "word of mouth"),
    "referral": ("another service", "jobcentre sent me", "referral"),
    "health": ("health visitor", "my gp", "doctor"),
    "online": ("online", "facebook", "saw it online"),
    "other": ("something else", "walked past"),
}


# ---- the report -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoReport:
    loaded: bool                  # False: the demo was already there and nothing was changed
    organisations: tuple[str, ...]
    first_week: str | None
    last_week: str | None
    participants: int             # enrolled with a demo organisation (staff-added and JOINed)
    consented: int
    declined: int
    opted_out: int
    quote_yes: int                # consented people who may be quoted
    quote_no: int
    waves: int
    invitations: int
    messages_in: int
    answers: int
    free_text: int
    sentiment: dict               # label -> free-text answers
    flags_open: int
    flags_closed: int
    seconds: float = 0.0

    def lines(self) -> list[str]:
        labels = ", ".join(f"{n} {label}" for label, n in sorted(self.sentiment.items(), key=lambda x: -x[1]))
        return [
            f"organisations: {', '.join(self.organisations)}",
            f"weeks: {self.first_week} to {self.last_week}",
            f"participants: {self.participants} ({self.consented} consented, {self.declined} declined, "
            f"{self.opted_out} stopped; {self.quote_yes} may be quoted, {self.quote_no} may not)",
            f"waves: {self.waves}, invitations: {self.invitations}, messages from participants: {self.messages_in}",
            f"answers: {self.answers}, of which free text: {self.free_text} ({labels or 'none'})",
            f"safeguarding flags: {self.flags_open} open, {self.flags_closed} closed",
        ]


def demo_counts(db: Store, loaded: bool, weeks: tuple[str | None, str | None] = (None, None),
                seconds: float = 0.0) -> DemoReport:
    """The demo's figures as stored: everything that belongs to the demo organisations."""
    O, E, C, A, F = (m.Organisation.__table__, m.Enrolment.__table__, m.Contact.__table__, m.Answer.__table__,
                     m.Flag.__table__)
    I, W, M = m.Invitation.__table__, m.Wave.__table__, m.Message.__table__
    with db.read() as conn:
        org_ids = dict(conn.execute(select(O.c.code_key, O.c.id).where(O.c.code_key.in_(DEMO_CODES))).all())
        ids = list(org_ids.values())
        enrolled = select(E.c.contact_id).where(E.c.organisation_id.in_(ids))
        consent = dict(conn.execute(select(E.c.consent_status, func.count()).where(E.c.organisation_id.in_(ids))
                                    .group_by(E.c.consent_status)).all())
        quotes = dict(conn.execute(select(E.c.consent_quote, func.count())
                                   .where(E.c.organisation_id.in_(ids), E.c.consent_status == "given")
                                   .group_by(E.c.consent_quote)).all())
        opted_out = conn.execute(select(func.count()).select_from(C).where(
            C.c.id.in_(enrolled), C.c.opted_out_at.is_not(None))).scalar_one()
        invited = select(I.c.wave_id).where(I.c.enrolment_id.in_(select(E.c.id).where(E.c.organisation_id.in_(ids))))
        waves = conn.execute(select(func.count()).select_from(W).where(W.c.id.in_(invited))).scalar_one()
        invitations = conn.execute(select(func.count()).select_from(I).where(
            I.c.enrolment_id.in_(select(E.c.id).where(E.c.organisation_id.in_(ids))))).scalar_one()
        messages_in = conn.execute(select(func.count()).select_from(M).where(
            M.c.direction == "in", M.c.contact_id.in_(enrolled))).scalar_one()
        answers = conn.execute(select(func.count()).select_from(A).where(A.c.organisation_id.in_(ids))).scalar_one()
        label = A.c.tags["label"].as_string()
        labels = conn.execute(select(label, func.count()).where(A.c.organisation_id.in_(ids), A.c.tags.is_not(None))
                              .group_by(label)).all()
        flag_rows = dict(conn.execute(select(F.c.status, func.count()).where(F.c.organisation_id.in_(ids))
                                      .group_by(F.c.status)).all())
    sentiment = {label: n for label, n in labels if label}
    return DemoReport(
        loaded=loaded, organisations=tuple(c for c in DEMO_CODES if c in org_ids), first_week=weeks[0],
        last_week=weeks[1], participants=sum(consent.values()), consented=consent.get("given", 0),
        declined=consent.get("declined", 0) + consent.get("withdrawn", 0), opted_out=opted_out,
        quote_yes=quotes.get(True, 0), quote_no=quotes.get(False, 0), waves=waves, invitations=invitations,
        messages_in=messages_in, answers=answers, free_text=sum(sentiment.values()), sentiment=sentiment,
        flags_open=flag_rows.get("open", 0), flags_closed=flag_rows.get("closed", 0), seconds=seconds)


def demo_loaded(db: Store) -> bool:
    """Whether the demo is in this database (its organisations' join codes mark it). A database without the
    schema is a DemoError that says what to run."""
    try:
        with db.read() as conn:
            return conn.execute(select(m.Organisation.id).where(m.Organisation.code_key.in_(DEMO_CODES)).limit(1)
                                ).first() is not None
    except (OperationalError, ProgrammingError) as exc:
        raise DemoError(f"the database is not ready ({exc.orig.__class__.__name__}): run "
                        "`chorus db upgrade` first") from None


def other_data(db: Store) -> str | None:
    """Why this database is not a new installation (None when it is). Demo data never goes beside real data:
    its waves invite everyone enrolled, its organisations would join the partnership's digests, and its flags
    would alert real safeguarding contacts. The 'demo' organisation that `make run` adds does not count."""
    with db.read() as conn:
        people = conn.execute(select(func.count()).select_from(m.Contact)).scalar_one()
        # Someone to alert: they would be told about the demo's made-up flags.
        alerted = conn.execute(select(func.count()).select_from(m.SafeguardingContact)).scalar_one()
        orgs = conn.execute(select(m.Organisation.code).where(
            m.Organisation.code_key.not_in(("demo", *DEMO_CODES))).order_by(m.Organisation.code)).scalars().all()
    if people:
        return f"the database already has {people} participant(s)"
    if alerted:
        return f"the database already has {alerted} safeguarding contact(s)"
    if orgs:
        return f"the database already has organisations ({', '.join(orgs[:3])}{', ...' if len(orgs) > 3 else ''})"
    return None


# ---- seeding --------------------------------------------------------------------------------------
def seed_demo(store: Store, now: datetime, *, weeks: int = 8, participants_per_org: int = 40, seed: int = 7) -> DemoReport:
    """Load the demo (see the module docstring) and return its figures; when the demo organisations
    already exist, change nothing and return the figures with `loaded=False`. Raises DemoError when the
    database is not a new installation (see `other_data`)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not 1 <= weeks <= 26:
        raise ValueError("weeks: 1 to 26")
    joiners = _joiners_per_org(participants_per_org)
    if participants_per_org < 1 or len(ORGS) * (participants_per_org + joiners) > LAST_NUMBER - FIRST_NUMBER + 1:
        raise ValueError(f"participants_per_org: 1 to {(LAST_NUMBER - FIRST_NUMBER + 1) // len(ORGS) * 10 // 11}"
                         " (the demo's numbers come from the 800 left in Ofcom's drama range)")
    started = _time.perf_counter()
    sim = _Simulation(store, now.astimezone(timezone.utc), weeks, participants_per_org, joiners, seed)
    if demo_loaded(store):
        return demo_counts(store, False, sim.week_labels)
    reason = other_data(store)
    if reason:
        raise DemoError(f"{reason}: demo data loads only into a new installation, never beside real data")
    sim.run()
    return demo_counts(store, True, sim.week_labels, round(_time.perf_counter() - started, 2))


def _joiners_per_org(participants_per_org: int) -> int:
    return max(1, participants_per_org // 10)


class _Nowhere:
    """The demo participants' phones: the worker 'sends' to them, so every demo message is recorded as sent
    and `chorus run` has nothing of the demo left to deliver."""

    name = "local"

    def send(self, address, message) -> None:
        return None


class _Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass(eq=False)
class _Person:
    org: DemoOrg
    address: str
    engagement: float
    mood: float
    quote: bool
    declines: bool
    chatty: float
    contact_id: int | None = None
    status: str = "pending"   # pending | given | declined | stopped
    active: object = None     # the conversation they are in the middle of (one at a time, like a person)


@dataclass(eq=False)
class _Conversation:
    person: _Person
    survey: SurveyDefinition
    week: int
    ref: str | None                     # what they were last asked: a question key, 'consent' or 'quote'
    mood: float
    leave_after: int | None = None      # answers after which they stop replying midway
    comes_back: bool = False            # ... and answer the rest after the reminder
    stop: bool = False                  # replies STOP instead of answering
    planted: tuple | None = None        # (text, close) for their first free-text answer
    answered: int = 0
    tries: int = 0
    scores: list = field(default_factory=list)   # fractions 0..1 of the numeric answers given
    values: dict = field(default_factory=dict)   # question key -> the answer they mean (kept for a retry)


class _Simulation:
    def __init__(self, store: Store, now: datetime, weeks: int, per_org: int, joiners: int, seed: int):
        self.db, self.now, self.weeks, self.per_org, self.joiners = store, now, weeks, per_org, joiners
        self.rng = random.Random(seed)
        self.tz = store.settings.default_timezone
        zone = ZoneInfo(self.tz)
        this_monday = now.astimezone(zone).date() - timedelta(days=now.astimezone(zone).weekday())
        self.mondays = [this_monday - timedelta(weeks=weeks - i) for i in range(weeks)]
        self.week_labels = tuple(f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in (self.mondays[0], self.mondays[-1]))
        self.clock = _Clock(now)
        self.worker = Worker(store, {"local": _Nowhere()}, clock=self.clock, worker_id="demo", senders=1)
        self.events: list = []
        self.order = itertools.count()
        self.ids = itertools.count(1)
        self.stamp = now.strftime("%Y%m%d%H%M%S")
        self.people: dict[int, _Person] = {}
        self.plants = list(PLANTED)
        self.used: dict = {}

    # ---- the timeline -------------------------------------------------------------------------------
    def at(self, when: datetime, fn, *args) -> None:
        heapq.heappush(self.events, (when, next(self.order), fn, args))

    def run(self) -> None:
        zone = ZoneInfo(self.tz)
        setup = local_to_utc(self.mondays[0] - timedelta(days=7), time(10), zone)
        weekly, visit = self._surveys(setup)
        self._enrol(setup)
        self.factor = {(o.code, w): self.rng.gauss(1.0, 0.12) for o in ORGS for w in range(self.weeks)}
        for w, monday in enumerate(self.mondays):
            start = local_to_utc(monday, time(0), zone)
            wave_at = self._weekly_time(weekly, start, local_to_utc(monday + timedelta(days=7), time(0), zone))
            self.at(wave_at, self._wave, WEEKLY, w)
            self.at(local_to_utc(monday + timedelta(days=1), time(12), zone), self._wave, VISIT, w)
            for hours in TICKS:
                self.at(wave_at + timedelta(hours=hours), self._tick)
        while self.events:
            when, _, fn, args = heapq.heappop(self.events)
            if when > self.now:
                continue
            self.clock.at = when
            fn(when, *args)
        # Bring the clock up to now, as `chorus run` would on its first tick, and send it nowhere.
        self.clock.at = self.now
        due_waves(self.db, self.now)
        self._tick(self.now)

    def _weekly_time(self, weekly: SurveyDefinition, start: datetime, end: datetime) -> datetime:
        """The weekly check-in's own time that week (its schedule), else Monday 10:00."""
        s = weekly.schedule
        if s is not None:
            found = occurrences(parse_schedule_rule(s.rule), s.timezone or self.tz, start, end)
            if found:
                return found[0]
        return start + timedelta(hours=10)

    def _tick(self, when: datetime) -> None:
        send_reminders(self.db, when)
        expire_stale(self.db, when)
        self._flush()

    def _flush(self) -> None:
        while self.worker.run_once():
            pass

    # ---- setting up -----------------------------------------------------------------------------------
    def _surveys(self, when: datetime) -> tuple[SurveyDefinition, SurveyDefinition]:
        loaded = {}
        for path in sorted(EXAMPLES.glob("*.yaml")):
            survey = load_survey_file(path)
            admin.load_survey(self.db, survey, when)
            loaded[survey.id] = survey
        if WEEKLY not in loaded or "service-experience" not in loaded:
            raise DemoError("the demo needs surveys/examples/weekly.yaml and service.yaml")
        visit = visit_survey(loaded["service-experience"])
        admin.load_survey(self.db, visit, when)
        self.surveys = [*loaded.values(), visit]
        return loaded[WEEKLY], visit

    def _enrol(self, when: datetime) -> None:
        """Most people text JOIN from a poster in the week before the first check-in, or later on; staff
        enrol the rest (consent pending: asked with their first invitation, and a few say no)."""
        rng, number, zone = self.rng, itertools.count(FIRST_NUMBER), ZoneInfo(self.tz)
        rows, staff = ["channel,address,organisation,language,tags"], []
        for org in ORGS:
            admin.add_organisation(self.db, org.name, org.code, when - timedelta(days=1))
            for i in range(self.per_org + self.joiners):
                ghost = rng.random() < 0.1
                by_staff = i < self.per_org and rng.random() < 0.2
                person = _Person(
                    org=org, address=f"+447700900{next(number):03d}",
                    engagement=0.03 if ghost else _clamp(rng.gauss(org.response, 0.18), 0.12, 0.97),
                    mood=_clamp(rng.gauss(org.mood, 0.15), 0.08, 0.95), quote=rng.random() < 0.55,
                    declines=by_staff and rng.random() < 0.15, chatty=rng.uniform(0.25, 0.95))
                if by_staff:
                    rows.append(f"local,{person.address},{org.code},en,{rng.choice(org.tags)}")
                    staff.append(person)
                    continue
                # Before the first week, or (the last few) on a day during the weeks.
                first = self.mondays[0] - timedelta(days=7)
                day = first + timedelta(days=rng.randint(0, 6) if i < self.per_org
                                        else rng.randint(8, max(8, 7 * self.weeks)))
                self.at(local_to_utc(day, time(rng.randint(9, 19), rng.randint(0, 59)), zone), self._join, person)
        report = admin.import_participants(self.db, "\n".join(rows) + "\n", when)
        if report.errors:
            raise DemoError(f"importing the demo participants failed: {report.errors[:3]}")
        for person in staff:
            person.contact_id = admin.find_contact(self.db, "local", person.address)
            self.people[person.contact_id] = person

    # ---- waves ----------------------------------------------------------------------------------------
    def _wave(self, when: datetime, survey_id: str, week: int) -> None:
        result = create_wave(self.db, survey_id, when, when)
        self._flush()
        survey = self._survey_of(result.wave_id)
        for contact_id, ref in self._asked(result.wave_id):
            person = self.people.get(contact_id)
            if person is None or person.status in ("declined", "stopped") or person.active is not None:
                continue
            plant = next((p for p in self.plants if survey_id == WEEKLY and p[0] == person.org.code
                          and max(0, self.weeks - 1 - p[1]) <= week and person.status == "given"), None)
            if plant is not None:   # answered for sure, on a very hard week (a late one if nobody could)
                self.plants.remove(plant)
                conv = person.active = _Conversation(person, survey, week, ref, mood=0.02, planted=(plant[2], plant[3]))
                self.at(when + timedelta(minutes=self.rng.uniform(20, 240)), self._turn, conv)
                continue
            self._maybe_answer(when, person, survey, week, ref)

    def _survey_of(self, wave_id: int) -> SurveyDefinition:
        with self.db.read() as conn:
            version = conn.execute(select(m.Wave.survey_version_id).where(m.Wave.id == wave_id)).scalar_one()
            return self.db.survey_version(conn, version)

    def _asked(self, wave_id: int) -> list[tuple[int, str | None]]:
        """Who this wave invited, in order, and what their invitation asked (the last message's ref)."""
        I, M = m.Invitation.__table__, m.Message.__table__
        with self.db.read() as conn:
            rows = conn.execute(select(I.c.contact_id, M.c.payload).join(M, M.c.invitation_id == I.c.id)
                                .where(I.c.wave_id == wave_id).order_by(I.c.contact_id, M.c.id)).all()
        last: dict[int, str | None] = {}
        for contact_id, payload in rows:
            last[contact_id] = (payload or {}).get("ref")
        return sorted(last.items())

    def _maybe_answer(self, when: datetime, person: _Person, survey: SurveyDefinition, week: int, ref) -> None:
        rng = self.rng
        chance = person.engagement * self.factor[(person.org.code, week)] * (0.8 if survey.id == VISIT else 1.0)
        if rng.random() >= chance:
            return
        mood = _clamp(person.mood + rng.gauss(0, 0.16) - self._slump(person.org, week), 0.0, 1.0)
        conv = person.active = _Conversation(person, survey, week, ref, mood)
        if rng.random() < 0.006:
            conv.stop = True
        elif rng.random() < 0.12:
            conv.leave_after = rng.randint(1, 2)
            conv.comes_back = rng.random() < 0.35
        r = rng.random()
        if r < 0.45:
            delay = timedelta(minutes=_clamp(rng.lognormvariate(math.log(12), 0.9), 1, 180))
        elif r < 0.83:
            delay = timedelta(hours=rng.uniform(1, 10))
        else:
            delay = timedelta(hours=rng.uniform(24.2, 30))   # after the reminder
        self.at(self._awake(when + delay), self._turn, conv)

    def _slump(self, org: DemoOrg, week: int) -> float:
        """Waits got longer over the last three weeks at two of the organisations, and moods dipped."""
        late = week - (self.weeks - 4)
        return 0.035 * late if org.waits_rise and late > 0 else 0.0

    def _working(self, when: datetime) -> datetime:
        local = when.astimezone(ZoneInfo(self.tz))
        if 9 <= local.hour < 18:
            return when
        day = local.date() + timedelta(days=1 if local.hour >= 18 else 0)
        return local_to_utc(day, time(9, 30), ZoneInfo(self.tz))

    def _awake(self, when: datetime) -> datetime:
        """Few people text between midnight and 7: those replies come after breakfast."""
        local = when.astimezone(ZoneInfo(self.tz))
        if local.hour < 7:
            morning = datetime.combine(local.date(), time(7), local.tzinfo)
            return (morning + timedelta(minutes=self.rng.uniform(0, 150))).astimezone(timezone.utc)
        return when

    # ---- conversations ---------------------------------------------------------------------------------
    def _send(self, when: datetime, address: str, text: str):
        msg = InboundMessage("local", address, f"demo-{self.stamp}-{next(self.ids):06d}", text)
        return handle_inbound(self.db, msg, when)

    def _join(self, when: datetime, person: _Person) -> None:
        handled = self._send(when, person.address, self.rng.choice(("JOIN", "join", "Join")) + " " + person.org.code)
        person.contact_id = handled.contact_id
        self.people[person.contact_id] = person
        conv = person.active = _Conversation(person, None, -1, "consent", person.mood)
        self.at(when + timedelta(seconds=self.rng.uniform(20, 200)), self._turn, conv)

    def _turn(self, when: datetime, conv: _Conversation) -> None:
        person, rng = conv.person, self.rng
        text = self._reply(conv)
        handled = self._send(when, person.address, text)
        if conv.stop:
            person.status, person.active = "stopped", None
            return
        if conv.ref == "consent":
            person.status = "declined" if person.declines else "given"
        if conv.planted is not None and conv.planted[0] == text:
            self._planted(when, person, conv.planted[1])
            conv.planted = None
        asked = [r.ref for r in handled.replies if r.ref]
        ref = asked[-1] if asked else None
        if ref is None or (ref not in ("consent", "quote") and not any(_asks(s, ref) for s in self.surveys)):
            person.active = None
            return  # completed, declined, a late answer (or something this demo does not answer)
        if ref == conv.ref and ref not in ("consent", "quote"):
            conv.tries += 1   # not understood: they try again, plainly
        else:
            conv.tries = 0
            if conv.ref not in ("consent", "quote"):
                conv.answered += 1
        conv.ref = ref
        if conv.leave_after is not None and conv.answered >= conv.leave_after and ref not in ("consent", "quote"):
            conv.leave_after = None
            if conv.comes_back:   # the 'not finished' reminder (6 h) brings them back
                self.at(self._awake(when + timedelta(hours=rng.uniform(7, 11))), self._turn, conv)
            else:
                person.active = None
            return
        think = rng.uniform(40, 300) if self._kind(conv) == "text" else rng.uniform(12, 150)
        self.at(when + timedelta(seconds=think), self._turn, conv)

    def _kind(self, conv: _Conversation) -> str | None:
        if conv.ref in (None, "consent", "quote"):
            return None
        return self._question(conv).type

    def _question(self, conv: _Conversation):
        """The question they were asked. Consent given late starts whichever survey invited them last, so
        the question may belong to another survey than the one this conversation began with."""
        if conv.survey is None or not _asks(conv.survey, conv.ref):
            conv.survey = next(s for s in self.surveys if _asks(s, conv.ref))
        return conv.survey.question(conv.ref)

    def _planted(self, when: datetime, person: _Person, close: bool) -> None:
        F, A = m.Flag.__table__, m.Answer.__table__
        with self.db.read() as conn:
            flag_id = conn.execute(select(F.c.id).join(A, A.c.id == F.c.answer_id)
                                   .where(A.c.contact_id == person.contact_id).order_by(F.c.id.desc())).scalar()
        if flag_id is not None and close:
            self.at(self._working(when + timedelta(hours=self.rng.uniform(2, 4))), self._close, flag_id)

    def _close(self, when: datetime, flag_id: int) -> None:
        """A person reads the answer, acts, and closes the flag with a note: the same working day."""
        flags.close_flag(self.db, flag_id, CLOSED_BY, CLOSED_NOTE, when)

    # ---- what they say ----------------------------------------------------------------------------------
    def _reply(self, conv: _Conversation) -> str:
        rng, person = self.rng, conv.person
        if conv.stop:
            return rng.choice(STOPS)
        if conv.ref == "consent":
            return rng.choice(NO if person.declines else YES)
        if conv.ref == "quote":
            return rng.choice(YES if person.quote else NO)
        q = self._question(conv)
        plain = conv.tries > 0
        if q.type in ("scale", "nps"):
            lo, hi = (q.min, q.max) if q.type == "scale" else (0, 10)
            if q.key not in conv.values:
                # People are kinder to a service they would recommend than to their week: NPS leans high.
                lean = conv.mood if q.type == "scale" else min(1.0, conv.mood + 0.18)
                noise = rng.gauss(0, 0.45 if q.type == "scale" else 0.9)
                conv.values[q.key] = value = round(_clamp(lo + (hi - lo) * lean + noise, lo, hi))
                conv.scores.append((value - lo) / (hi - lo))
            value = conv.values[q.key]
            return str(value) if plain else _number(value, hi, rng)
        if q.type == "yesno":
            if q.key not in conv.values:
                conv.values[q.key] = yes = rng.random() < 0.15 + 0.75 * conv.mood
                conv.scores.append(1.0 if yes else 0.0)
            yes = conv.values[q.key]
            if plain:
                return "yes" if yes else "no"
            return rng.choice(("yes", "yeah", "yep", "Yes", "yes thx", "kind of") if yes else
                              ("no", "nope", "not really", "nah", "No"))
        if q.type == "choice":
            keys = [c.key for c in q.choices]
            if q.key not in conv.values:
                weights = [5, 3, 2, 2, 1][:len(keys)] + [1] * max(0, len(keys) - 5)
                conv.values[q.key] = rng.choices(keys, weights=weights)[0]
            key = conv.values[q.key]
            if plain or key not in CHOICE_WORDS:
                return str(keys.index(key) + 1)
            return rng.choice(CHOICE_WORDS[key])
        return self._words(conv, q)

    def _words(self, conv: _Conversation, q) -> str:
        rng, org = self.rng, conv.person.org
        if conv.planted is not None:
            return conv.planted[0]
        tone = sum(conv.scores) / len(conv.scores) if conv.scores else conv.mood
        key = q.key
        if key == "what_was_hard":
            kind = "hard" if rng.random() < 0.75 else self._complaint(org, conv.week)
        elif key == "did_well":
            kind = "praise"
        elif key == "do_better":
            kind = self._complaint(org, conv.week) if rng.random() < 0.85 else "nothing"
        elif key == "make_it_ten":
            kind = "suggest" if rng.random() < 0.7 else "mixed"
        elif rng.random() > conv.person.chatty * 0.75:
            kind = "skip" if rng.random() < 0.3 else "nothing"
        elif tone >= 0.72:
            kind = "praise" if rng.random() < 0.8 else "neutral"
        elif tone <= 0.3:
            kind = self._complaint(org, conv.week)
        else:
            kind = rng.choice(("mixed", "mixed", "neutral", "nothing"))
        if kind == "skip" and q.optional:
            return rng.choice(("skip", "SKIP", "Skip"))
        if kind in ("skip", "nothing"):
            return rng.choice(NOTHING)
        if kind == "neutral":
            return self._pick(NEUTRAL, conv.week)
        text = self._pick(HARD[org.topic] if kind == "hard" else TEXTS[org.topic][kind], conv.week)
        return _voice(text, kind, rng)

    def _pick(self, pool: tuple[str, ...], week: int) -> str:
        """One of `pool`, preferring those nobody wrote this week: real people rarely repeat each other."""
        used = self.used.setdefault((id(pool), week), set())
        fresh = [t for t in pool if t not in used] or list(pool)
        text = self.rng.choice(fresh)
        used.add(text)
        return text

    def _complaint(self, org: DemoOrg, week: int) -> str:
        late = week - (self.weeks - 4)
        share = 0.3 + (0.17 * late if org.waits_rise and late > 0 else 0.0)
        return "wait" if self.rng.random() < share else "complaint"


def visit_survey(service: SurveyDefinition) -> SurveyDefinition:
    """The service-experience example for the demo organisations on the local channel, without a schedule
    (so the clock never sends it: the demo makes its waves)."""
    data = replace(service, id=VISIT, title="After your visit", schedule=None,
                   audience=Audience(organisations=DEMO_CODES, channels=("local",))).to_dict()
    return parse_survey(data, "visit-feedback (demo/seed.py)")


def _number(value: int, top: int, rng: random.Random) -> str:
    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return rng.choice((f"{value}", f"{value}", f"{value}", f"{value}/{top}", words[value], f"{value} tbh",
                       f"id say {value}", f"{value} out of {top}"))


def _voice(text: str, kind: str, rng: random.Random) -> str:
    """As people text: now and then a shortening, a capital, a thank-you or an emoji."""
    if rng.random() < 0.3:
        text = " ".join(SHORT.get(w, w) for w in text.split(" "))
    if rng.random() < 0.15:
        text = text[0].upper() + text[1:]
    if kind == "praise" and rng.random() < 0.2:
        text = f"{text} {rng.choice(THANKS)}"
    if kind in EMOJI and rng.random() < 0.25:
        text = f"{text} {rng.choice(EMOJI[kind])}"
    return text


def _asks(survey: SurveyDefinition, key: str | None) -> bool:
    try:
        survey.question(key)
    except KeyError:
        return False
    return True


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))
