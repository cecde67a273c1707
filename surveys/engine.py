"""The conversation engine: pure. ConversationState + input + now -> new state + events + replies.

No I/O and no clock: the service loads a `ConversationState` from the store, calls `step` (or `start`), then stores
the events and sends the replies. Precedence of an inbound message, highest first: a pending deletion
confirmation, keywords (the whole message only), a pending consent or language question, the open
conversation's current question, and last a comment kept for the team.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from surveys import messages
from surveys.definition import Question
from surveys.definition import Survey as SurveyDefinition
from surveys.parsing import match_keyword, parse_choice, parse_number, parse_yes_no

MAX_ATTEMPTS = 2  # after this many unreadable answers we move on: never an endless loop


# ---- what goes out ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class OutgoingMessage:
    """Text plus optional choices. The channel decides how choices look (buttons, a numbered list).
    `style`: 'list' (options to pick one of), 'scale' (a numeric range; choices are every value), 'yesno';
    or 'summary': a short summary of something longer, its points one per line of `text`, its title in
    `subject` and where to read the whole in `link` (a chat channel lays it out its own way).
    `ref` names what a button press on these choices answers (a question key, 'consent', 'quote', 'language').
    `subject` is a title, for channels that have one (email's subject line). `document` names a stored
    document a channel may send in full instead of the text (a digest's archived JSON, which the email
    channel renders as HTML with charts). Both are generic: any channel may use or ignore them."""

    text: str
    choices: tuple[Choice, ...] = ()
    style: str | None = None
    ref: str | None = None
    subject: str | None = None
    document: str | None = None
    link: str | None = None

    def to_payload(self) -> dict | None:
        if not self.choices and self.ref is None and self.subject is None and self.document is None \
                and self.link is None:
            return None
        payload = {"style": self.style, "ref": self.ref, "choices": [[c.value, c.label] for c in self.choices]}
        if self.subject is not None:
            payload["subject"] = self.subject
        if self.document is not None:
            payload["document"] = self.document
        if self.link is not None:
            payload["link"] = self.link
        return payload

    @classmethod
    def from_row(cls, text: str, payload: dict | None) -> "OutgoingMessage":
        if not payload:
            return cls(text)
        choices = tuple(Choice(v, label) for v, label in payload.get("choices") or ())
        return cls(text, choices, payload.get("style"), payload.get("ref"), payload.get("subject"),
                   payload.get("document"), payload.get("link"))


# ---- what happened ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class ConversationStarted(Event):
    pass


@dataclass(frozen=True)
class QuestionAsked(Event):
    question: str


@dataclass(frozen=True)
class AnswerRecorded(Event):
    """status: answered | skipped | unparsed (kept as free text)."""

    question: str
    question_type: str
    raw: str | None
    value: object
    status: str


@dataclass(frozen=True)
class ConversationEnded(Event):
    status: str  # completed | expired | stopped


@dataclass(frozen=True)
class CommentReceived(Event):
    """Text that answers no question: `late` after the conversation expired (then `question` is the one it
    was on), otherwise a message while no survey is open."""

    raw: str
    late: bool
    question: str | None = None


@dataclass(frozen=True)
class OptedOut(Event):
    pass


@dataclass(frozen=True)
class OptedIn(Event):
    pass


@dataclass(frozen=True)
class LanguageChanged(Event):
    language: str


@dataclass(frozen=True)
class ConsentAnswered(Event):
    """participate is set for the first consent question, quote for the second."""

    enrolment: int
    participate: bool | None = None
    quote: bool | None = None


@dataclass(frozen=True)
class ErasureConfirmed(Event):
    pass


@dataclass(frozen=True)
class DataRequested(Event):
    """MYDATA: the person asked for a copy of everything held about them. The service gathers it, sends it
    and says how (the right of access holds after STOP too)."""


@dataclass(frozen=True)
class Ignored(Event):
    """Nothing to act on; the text is not kept (opted out, a stale button, ...)."""

    reason: str


# ---- what the engine knows -------------------------------------------------------------------------
@dataclass(frozen=True)
class ConversationView:
    survey: SurveyDefinition
    version_id: int
    enrolment: int
    org_name: str
    id: int | None = None  # the stored conversation; None until the service stores a new one
    question: str | None = None  # None until the first question is asked
    attempts: int = 0
    last_activity: datetime | None = None


@dataclass(frozen=True)
class ConversationState:
    """Everything the engine needs about one contact. `pending` is a small dict persisted by the service:
    {'kind': 'consent'|'quote'|'language'|'delete', 'enrolment': id, 'org': name, 'attempts': n, ...}."""

    language: str
    expiry: timedelta
    opted_out: bool = False
    pending: dict | None = None
    conversation: ConversationView | None = None
    next_conversation: ConversationView | None = None  # to start once consent is given
    org_names: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    aliases: dict = field(default_factory=dict)
    # The enrolment (id, organisation name) that CONSENT changes when no conversation is open.
    default_enrolment: tuple[int, str] | None = None


@dataclass(frozen=True)
class Inbound:
    text: str
    kind: str = "text"  # text | media | button | edit
    ref: str | None = None


@dataclass
class Step:
    session: ConversationState
    events: list[Event] = field(default_factory=list)
    replies: list[OutgoingMessage] = field(default_factory=list)

    @property
    def keep_text(self) -> bool:
        if self.session.opted_out and any(isinstance(e, DataRequested) for e in self.events):
            return False  # someone who said STOP asking for their data: the request is kept, not the text
        return not any(isinstance(e, (Ignored, ErasureConfirmed)) for e in self.events)


# ---- entry points ----------------------------------------------------------------------------------
def start(session: ConversationState, conversation: ConversationView, now: datetime) -> Step:
    """Begin a survey: the intro and the first question. If consent is still pending, ask for it first
    and keep the survey to start once it is given."""
    step = Step(session)
    if session.pending and session.pending.get("kind") in ("consent", "quote"):
        step.session = replace(session, next_conversation=conversation)
        _ask_pending(step)
        return step
    _begin(step, conversation, now)
    return step


def ask_consent(session: ConversationState, enrolment: int, org_name: str, then: ConversationView | None = None) -> Step:
    """Ask `enrolment`'s consent (after JOIN, or before an imported contact's first survey)."""
    pending = {"kind": "consent", "enrolment": enrolment, "org": org_name, "attempts": 0}
    step = Step(replace(session, pending=pending, next_conversation=then or session.next_conversation))
    _ask_pending(step)
    return step


def reask(session: ConversationState) -> list[OutgoingMessage]:
    """What the person was last asked (a pending consent or language question, or the current question)."""
    st = Step(session)
    _reask(st)
    return st.replies


def step(session: ConversationState, msg: Inbound, now: datetime) -> Step:
    st = Step(session)
    text = msg.text or ""
    pending = session.pending or {}

    if msg.kind == "button":
        return _button(st, msg, now)
    keyword = match_keyword(text, session.aliases) if text else None

    if session.opted_out:
        if keyword == "START":
            st.session = replace(session, opted_out=False)
            st.events.append(OptedIn())
            _say(st, "start_welcome_back")
            if pending.get("kind") in ("consent", "quote"):
                _ask_pending(st)
        elif keyword == "MYDATA":
            st.events.append(DataRequested())
        else:
            st.events.append(Ignored("opted out"))
        return st

    if pending.get("kind") == "delete":
        if keyword == "DELETE" or (keyword is None and parse_yes_no(text, _langs(session)) is True):
            st.session = replace(session, pending=None, conversation=None, next_conversation=None)
            st.events.append(ErasureConfirmed())
            _say(st, "delete_done")
            return st
        st.session = replace(session, pending=None)
        _say(st, "delete_cancelled")
        if keyword is None:
            _reask(st)
            return st

    if keyword:
        _keyword(st, keyword, now)
        return st

    if msg.kind == "media" and not text.strip():
        _say(st, "media_only")
        return st

    kind = pending.get("kind")
    if kind in ("consent", "quote"):
        _consent_reply(st, text, now)
        return st
    if kind == "language":
        _language_reply(st, text)
        return st

    conv = st.session.conversation
    if conv is not None and conv.question is not None:
        if conv.last_activity is not None and now - conv.last_activity > session.expiry:
            st.session = replace(st.session, conversation=None)
            st.events.append(ConversationEnded("expired"))
            st.events.append(CommentReceived(text, late=True, question=conv.question))
            _say(st, "late")
            return st
        _answer(st, conv, text, now)
        return st

    st.events.append(CommentReceived(text, late=False))
    _say(st, "comment")
    return st


# ---- keywords --------------------------------------------------------------------------------------
def _keyword(st: Step, keyword: str, now: datetime) -> None:
    s = st.session
    if keyword == "STOP":
        if s.conversation is not None:
            st.events.append(ConversationEnded("stopped"))
        # A consent question still unanswered is kept, so START can ask it again.
        keep = s.pending if (s.pending or {}).get("kind") in ("consent", "quote") else None
        st.session = replace(s, opted_out=True, pending=keep, conversation=None, next_conversation=None)
        st.events.append(OptedOut())
        _say(st, "stop_confirm")
    elif keyword == "START":
        _say(st, "start_already")
        _reask(st)
    elif keyword == "HELP":
        _say(st, "help", orgs=_join_names(s.org_names))
        _reask(st)
    elif keyword == "SKIP":
        conv = s.conversation
        if conv is None or conv.question is None:
            _say(st, "skip_nothing")
            return
        q = conv.survey.question(conv.question)
        st.events.append(AnswerRecorded(q.key, q.type, None, None, "skipped"))
        _advance(st, conv, q, None, answered=False, now=now)
    elif keyword == "LANGUAGE":
        st.session = replace(s, pending={"kind": "language", "attempts": 0, "resume": (s.pending or None)})
        _ask_language(st)
    elif keyword == "MYDATA":
        st.events.append(DataRequested())
        _reask(st)
    elif keyword == "DELETE":
        st.session = replace(s, pending={"kind": "delete"})
        _say(st, "delete_ask")
    elif keyword == "CONSENT":
        conv = s.conversation
        enrolment, org = (conv.enrolment, conv.org_name) if conv else (s.default_enrolment or (None, ""))
        if enrolment is None:
            _say(st, "help", orgs=_join_names(s.org_names))
            return
        st.session = replace(s, pending={"kind": "consent", "enrolment": enrolment, "org": org, "attempts": 0})
        _ask_pending(st)


# ---- consent and language --------------------------------------------------------------------------
def _ask_pending(st: Step) -> None:
    p = st.session.pending or {}
    lang = st.session.language
    yes_no = (Choice("yes", messages.text(lang, "yes")), Choice("no", messages.text(lang, "no")))
    if p.get("kind") == "consent":
        st.replies.append(OutgoingMessage(messages.text(lang, "consent_ask", org=p.get("org", "")), yes_no, "yesno", "consent"))
    elif p.get("kind") == "quote":
        st.replies.append(OutgoingMessage(messages.text(lang, "quote_ask"), yes_no, "yesno", "quote"))


def _consent_reply(st: Step, text: str, now: datetime, value: bool | None = None) -> None:
    s = st.session
    p = dict(s.pending or {})
    if value is None:
        value = parse_yes_no(text, _langs(s))
    if value is None:
        p["attempts"] = p.get("attempts", 0) + 1
        if p["kind"] == "quote" and p["attempts"] >= MAX_ATTEMPTS:
            value = False  # never assume permission to quote
        elif p["attempts"] > MAX_ATTEMPTS:
            st.session = replace(s, pending=p)
            st.events.append(Ignored("consent unanswered"))
            return
        else:
            st.session = replace(s, pending=p)
            _say(st, "consent_later" if p["attempts"] >= MAX_ATTEMPTS else "reprompt_yesno")
            return
    enrolment = p["enrolment"]
    if p["kind"] == "consent":
        st.events.append(ConsentAnswered(enrolment, participate=value))
        if not value:
            conv = s.conversation
            if conv is not None and conv.enrolment == enrolment:
                st.events.append(ConversationEnded("stopped"))
                conv = None
            st.session = replace(s, pending=None, conversation=conv, next_conversation=None)
            _say(st, "consent_declined", org=p.get("org", ""))
            return
        st.session = replace(s, pending={**p, "kind": "quote", "attempts": 0})
        _ask_pending(st)
        return
    st.events.append(ConsentAnswered(enrolment, quote=value))
    st.session = replace(s, pending=None)
    _say(st, "consent_thanks")
    if s.conversation is not None:
        _reask(st)
    elif s.next_conversation is not None:
        st.session = replace(st.session, next_conversation=None)
        _begin(st, s.next_conversation, now)


def _ask_language(st: Step, key: str = "language_ask") -> None:
    langs = st.session.languages
    choices = tuple(Choice(code, messages.language_name(code)) for code in langs)
    st.replies.append(OutgoingMessage(messages.text(st.session.language, key), choices, "list", "language"))


def _language_options(langs: tuple[str, ...]) -> list[list[str]]:
    return [[code, messages.language_name(code)] for code in langs]


def _language_reply(st: Step, text: str, index: int | None = None) -> None:
    s = st.session
    p = dict(s.pending or {})
    if index is None:
        index = parse_choice(text, _language_options(s.languages))
    if index is None:
        p["attempts"] = p.get("attempts", 0) + 1
        if p["attempts"] >= MAX_ATTEMPTS:
            st.session = replace(s, pending=p.get("resume"))
            _reask(st)
            return
        st.session = replace(s, pending=p)
        _ask_language(st, "language_reprompt")
        return
    lang = s.languages[index]
    st.session = replace(s, language=lang, pending=p.get("resume"))
    st.events.append(LanguageChanged(lang))
    _say(st, "language_set")
    _reask(st)


# ---- questions -------------------------------------------------------------------------------------
def _begin(st: Step, conv: ConversationView, now: datetime) -> None:
    st.events.append(ConversationStarted())
    survey = conv.survey
    lang = _survey_language(st.session.language, survey)
    st.replies.append(OutgoingMessage(_fill(survey.intro[lang], conv.org_name)))
    _ask(st, replace(conv, question=None, attempts=0, last_activity=now), survey.first_key)


def _ask(st: Step, conv: ConversationView, key: str) -> None:
    q = conv.survey.question(key)
    conv = replace(conv, question=key, attempts=0)
    st.session = replace(st.session, conversation=conv)
    st.events.append(QuestionAsked(key))
    st.replies.append(render_question(q, _survey_language(st.session.language, conv.survey), conv.org_name))


def render_question(q: Question, lang: str, org_name: str = "") -> OutgoingMessage:
    prompt = _fill(q.prompt[lang], org_name)
    if q.type == "choice":
        return OutgoingMessage(prompt, tuple(Choice(c.key, c.label[lang]) for c in q.choices), "list", q.key)
    if q.type in ("scale", "nps"):
        lo, hi = _bounds(q)
        labels = {lo: q.min_label[lang] if q.min_label else "", hi: q.max_label[lang] if q.max_label else ""}
        return OutgoingMessage(prompt, tuple(Choice(str(n), labels.get(n, "")) for n in range(lo, hi + 1)), "scale", q.key)
    if q.type == "yesno":
        return OutgoingMessage(prompt, (Choice("yes", messages.text(lang, "yes")), Choice("no", messages.text(lang, "no"))), "yesno", q.key)
    return OutgoingMessage(prompt, ref=q.key)


def _reask(st: Step) -> None:
    """Repeat whatever the person was last asked, so a keyword never leaves them stranded."""
    s = st.session
    if s.pending and s.pending.get("kind") in ("consent", "quote"):
        _ask_pending(st)
    elif s.pending and s.pending.get("kind") == "language":
        _ask_language(st)
    elif s.conversation is not None and s.conversation.question is not None:
        conv = s.conversation
        lang = _survey_language(s.language, conv.survey)
        st.replies.append(render_question(conv.survey.question(conv.question), lang, conv.org_name))


def _answer(st: Step, conv: ConversationView, text: str, now: datetime, pressed: str | None = None) -> None:
    q = conv.survey.question(conv.question)
    value = read_answer(q, text, _langs(st.session, conv.survey), pressed)
    if value is not None:
        st.events.append(AnswerRecorded(q.key, q.type, text, value, "answered"))
        _advance(st, conv, q, value, answered=True, now=now)
        return
    attempts = conv.attempts + 1
    if attempts < MAX_ATTEMPTS:
        st.session = replace(st.session, conversation=replace(conv, attempts=attempts, last_activity=now))
        st.replies.append(_reprompt(q, _survey_language(st.session.language, conv.survey)))
        return
    status = "skipped" if q.optional else "unparsed"
    st.events.append(AnswerRecorded(q.key, q.type, text, None, status))
    _advance(st, conv, q, None, answered=False, now=now)


def read_answer(q: Question, text: str, languages: tuple[str, ...], pressed: str | None = None) -> object:
    """The parsed value of `text` for question `q`, or None when it cannot be read."""
    if pressed is not None:
        text = pressed
    if q.type == "text":
        return text.strip() or None
    if q.type in ("scale", "nps"):
        lo, hi = _bounds(q)
        return parse_number(text, lo, hi, languages)
    if q.type == "yesno":
        if pressed in ("yes", "no"):
            return pressed == "yes"
        return parse_yes_no(text, languages)
    index = parse_choice(text, [[c.key, *c.label.values()] for c in q.choices])
    return None if index is None else q.choices[index].key


def _advance(st: Step, conv: ConversationView, q: Question, value: object, answered: bool, now: datetime) -> None:
    conv = replace(conv, last_activity=now)
    nxt = conv.survey.next_key(q.key, value, answered)
    if nxt is None:
        lang = _survey_language(st.session.language, conv.survey)
        st.session = replace(st.session, conversation=None)
        st.events.append(ConversationEnded("completed"))
        st.replies.append(OutgoingMessage(_fill(conv.survey.outro[lang], conv.org_name)))
        return
    _ask(st, conv, nxt)


def _reprompt(q: Question, lang: str) -> OutgoingMessage:
    if q.type in ("scale", "nps"):
        lo, hi = _bounds(q)
        if q.min_label and q.max_label:
            text = messages.text(lang, "reprompt_number_labels", min=lo, max=hi, min_label=q.min_label[lang], max_label=q.max_label[lang])
        else:
            text = messages.text(lang, "reprompt_number", min=lo, max=hi)
    elif q.type == "choice":
        text = messages.text(lang, "reprompt_choice")
    elif q.type == "yesno":
        text = messages.text(lang, "reprompt_yesno")
    else:
        text = messages.text(lang, "reprompt_text")
    if q.type in ("scale", "nps"):
        # The text already names the range and its ends; a legend or keypad of numbers would repeat it.
        return OutgoingMessage(text, ref=q.key)
    rendered = render_question(q, lang)
    return OutgoingMessage(text, rendered.choices, rendered.style, rendered.ref)


# ---- buttons ---------------------------------------------------------------------------------------
def ref_token(ref: str) -> str:
    """A short token that stands for `ref` (a question key may be 64 characters): a channel whose buttons
    carry little data sends this instead of the ref, and a press with it counts as a press on the ref.
    Which refs a channel shortens, and why, is its own business (see bot/render.py)."""
    return "#" + hashlib.sha1(ref.encode()).hexdigest()[:12]


def _stands_for(pressed: str | None, ref: str) -> bool:
    return pressed == ref or (pressed is not None and pressed.startswith("#") and pressed == ref_token(ref))


def _button(st: Step, msg: Inbound, now: datetime) -> Step:
    """A press on an inline button. Only the buttons of the question being asked count; an old one
    changes nothing (the adapter answers it politely)."""
    s = st.session
    kind = (s.pending or {}).get("kind")
    if s.opted_out:
        st.events.append(Ignored("opted out"))
    elif msg.ref in ("consent", "quote") and kind == msg.ref and msg.text in ("yes", "no"):
        _consent_reply(st, "", now, value=msg.text == "yes")
    elif msg.ref == "language" and kind == "language" and msg.text in s.languages:
        _language_reply(st, "", index=s.languages.index(msg.text))
    elif s.conversation is not None and not kind and s.conversation.question is not None \
            and _stands_for(msg.ref, s.conversation.question):
        _answer(st, s.conversation, msg.text, now, pressed=msg.text)
    else:
        st.events.append(Ignored("stale button"))
    return st


# ---- small helpers ---------------------------------------------------------------------------------
def _say(st: Step, key: str, **values: object) -> None:
    st.replies.append(OutgoingMessage(messages.text(st.session.language, key, **values)))


def _bounds(q: Question) -> tuple[int, int]:
    return (0, 10) if q.type == "nps" else (q.min, q.max)


def _survey_language(language: str, survey: SurveyDefinition) -> str:
    return language if language in survey.languages else survey.languages[0]


def _langs(s: ConversationState, survey: SurveyDefinition | None = None) -> tuple[str, ...]:
    """Languages whose words we accept: the contact's, the survey's, and English as everyone's fallback."""
    langs = [s.language]
    if survey is not None:
        langs.extend(survey.languages)
    langs.append("en")
    return tuple(dict.fromkeys(langs))


_PLACEHOLDER = re.compile(r"\{org\}")


def _fill(text: str, org_name: str) -> str:
    return _PLACEHOLDER.sub(org_name, text) if "{" in text else text


def _join_names(names: tuple[str, ...]) -> str:
    if not names:
        return "local services"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
