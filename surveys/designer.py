"""The survey designer's staff operations: drafts, checking as you type, publishing, versions and their
differences, duplicating, importing and exporting YAML, and a schedule's next occurrences.

The YAML is the survey: the designer keeps a draft exactly as its author wrote it (valid or not, so no work is
ever lost) and checks it with the same loader and warnings as `chorus surveys validate` (file, path, reason;
did-you-mean). A draft never reaches participants. Publishing a valid draft stores it with
`admin.load_survey`, the same path as `chorus surveys load`: a new immutable version, which new conversations
use while open ones finish on theirs (each conversation holds its version).

Who may do what (issue 15): backbone admins edit every survey; organisation staff edit their organisations'
surveys only, and may read the partnership's (organisation NULL) and duplicate them into their own; other
roles may not use the designer. An organisation's survey reaches that organisation's people only, so its
`audience.organisations` must name it (and nothing else) before it can be published.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import yaml
from sqlalchemy import func, select

from surveys import audit
from surveys import models as m
from surveys.admin import AdminError, LoadResult, load_survey, unknown
from surveys.checks import SurveyChecks, survey_warnings
from surveys.definition import Survey
from surveys.loader import ID_PATTERN, SurveyError, load_survey_text, parse_survey
from surveys.schedule import occurrences
from surveys.schedule_rule import parse_schedule_rule
from surveys.scope import Forbidden, Scope
from surveys.store import Store

MAX_YAML = 200_000      # characters: a survey is a few kilobytes; this stops a paste of something else


class DesignError(AdminError):
    """A designer request that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class DesignCheck:
    """What `chorus surveys validate` would say about the text: problems (path, reason) that stop it from
    being published, and warnings of a valid survey."""
    survey: Survey | None
    problems: list[tuple[str, str]]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.survey is not None and not self.problems

    def lines(self, filename: str) -> list[str]:
        """As the command prints them: 'file: path: reason'."""
        return [f"{filename}: {p}: {r}" if p else f"{filename}: {r}" for p, r in self.problems]


def survey_yaml(definition: dict) -> str:
    """A stored definition (Survey.to_dict()) as the YAML a person would write: keys in the file's order."""
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def check_yaml(text: str, checks: SurveyChecks, filename: str = "survey.yaml", *,
               survey_id: str | None = None, owner_code: str | None = None) -> DesignCheck:
    """Check YAML as `chorus surveys validate` does. `survey_id`: the draft's survey (the text must keep it);
    `owner_code`: the owning organisation's code (the audience must be that organisation)."""
    if len(text) > MAX_YAML:
        return DesignCheck(None, [("", f"the text is {len(text):,} characters; a survey is at most {MAX_YAML:,}")])
    try:
        survey = load_survey_text(text, filename)
    except SurveyError as exc:
        return DesignCheck(None, exc.problems)
    problems = []
    if survey_id is not None and survey.id != survey_id:
        problems.append(("id", f"this is the draft of survey {survey_id!r}; keep that id (to make another survey "
                               "from it, use Duplicate)"))
    if owner_code is not None:
        named = tuple(survey.audience.organisations) if survey.audience else ()
        if [c.casefold() for c in named] != [owner_code.casefold()]:
            problems.append(("audience.organisations", f"a survey of organisation {owner_code!r} reaches its own "
                                                       f"people only: write organisations: [{owner_code}]"))
    return DesignCheck(survey, problems, survey_warnings(survey, checks))


# ---- who may ---------------------------------------------------------------------------------------
def _designer(scope: Scope) -> None:
    scope.require(scope.role in ("admin", "staff"), "design surveys")


def may_edit(scope: Scope, organisation_id: int | None) -> bool:
    if scope.role == "admin":
        return True
    return scope.role == "staff" and organisation_id is not None and organisation_id in scope.organisation_ids


def _may_read(scope: Scope, organisation_id: int | None) -> bool:
    return may_edit(scope, organisation_id) or (scope.role == "staff" and organisation_id is None)


def _require_edit(scope: Scope, organisation_id: int | None, survey_id: str) -> None:
    if not may_edit(scope, organisation_id):
        whose = "the partnership's (backbone admins edit it)" if organisation_id is None else \
            "another organisation's"
        raise Forbidden(f"survey {survey_id!r} is {whose}; you may duplicate it into your own")


# ---- listing and opening ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DesignSummary:
    id: str
    title: str
    organisation: str | None          # the owner's name; None: the partnership's
    current: int | None               # the published version's number; None: never published (a draft only)
    versions: int
    draft_by: str | None
    draft_at: datetime | None
    editable: bool


def _orgs(s) -> dict[int, m.Organisation]:
    return {o.id: o for o in s.scalars(select(m.Organisation))}


def list_designs(db: Store, scope: Scope) -> list[DesignSummary]:
    """Every survey and draft the scope may read, by id."""
    _designer(scope)
    with db.session() as s:
        orgs = _orgs(s)
        counts = dict(s.execute(select(m.SurveyVersion.survey_id, func.count()).group_by(m.SurveyVersion.survey_id)).all())
        numbers = dict(s.execute(select(m.Survey.id, m.SurveyVersion.number)
                                 .join(m.SurveyVersion, m.SurveyVersion.id == m.Survey.current_version_id)).all())
        drafts = {d.survey_id: d for d in s.scalars(select(m.SurveyDraft))}
        out = {}
        for row in s.scalars(select(m.Survey)):
            if _may_read(scope, row.organisation_id):
                d = drafts.get(row.id)
                out[row.id] = DesignSummary(row.id, row.title, _name(orgs, row.organisation_id), numbers.get(row.id),
                                            counts.get(row.id, 0), d.updated_by if d else None,
                                            d.updated_at if d else None, may_edit(scope, row.organisation_id))
        for d in drafts.values():
            if d.survey_id not in out and _may_read(scope, d.organisation_id):
                out[d.survey_id] = DesignSummary(d.survey_id, _draft_title(d.yaml_text), _name(orgs, d.organisation_id),
                                                 None, 0, d.updated_by, d.updated_at, may_edit(scope, d.organisation_id))
    return [out[k] for k in sorted(out)]


def _name(orgs: dict[int, m.Organisation], org_id: int | None) -> str | None:
    return orgs[org_id].name if org_id in orgs else None


def _draft_title(text: str) -> str:
    found = re.search(r"(?m)^title:\s*(.+)$", text)
    return found.group(1).strip().strip("'\"") if found else "(untitled draft)"


@dataclass(frozen=True)
class Design:
    survey_id: str
    organisation_id: int | None
    organisation: str | None          # the owner's name; None: the partnership's
    owner_code: str | None
    yaml_text: str                    # the draft's, or the current version's when there is no draft
    is_draft: bool
    base_number: int | None           # the version the draft started from
    current: int | None               # the published version now
    draft_by: str | None
    draft_at: datetime | None
    editable: bool

    @property
    def stale(self) -> bool:
        """Another version was published after this draft was started from the one before it."""
        return self.is_draft and self.current is not None and self.base_number != self.current


def _survey_ids(s) -> list[str]:
    return list(s.scalars(select(m.Survey.id))) + list(s.scalars(select(m.SurveyDraft.survey_id)))


def _design(s, scope: Scope, survey_id: str) -> Design:
    row = s.get(m.Survey, survey_id)
    draft = s.get(m.SurveyDraft, survey_id)
    if row is None and draft is None:
        raise DesignError(str(unknown("survey", survey_id, _survey_ids(s))))
    org_id = row.organisation_id if row is not None else draft.organisation_id
    if not _may_read(scope, org_id):
        raise Forbidden(f"survey {survey_id!r} is another organisation's")
    org = s.get(m.Organisation, org_id) if org_id is not None else None
    current = s.get(m.SurveyVersion, row.current_version_id) if row is not None and row.current_version_id else None
    if draft is not None:
        text, base, by, at = draft.yaml_text, draft.base_number, draft.updated_by, draft.updated_at
    else:
        text, base, by, at = survey_yaml(current.definition) if current else "", None, None, None
    return Design(survey_id, org_id, org.name if org else None, org.code if org else None, text, draft is not None,
                  base, current.number if current else None, by, at, may_edit(scope, org_id))


def open_design(db: Store, scope: Scope, survey_id: str) -> Design:
    """A survey as the designer shows it: its draft when there is one, else its published version's YAML."""
    _designer(scope)
    with db.session() as s:
        return _design(s, scope, survey_id)


def check_design(design: Design, text: str, checks: SurveyChecks) -> DesignCheck:
    return check_yaml(text, checks, f"{design.survey_id}.yaml", survey_id=design.survey_id, owner_code=design.owner_code)


# ---- writing drafts --------------------------------------------------------------------------------
def _org_for(s, scope: Scope, org_code: str | None) -> m.Organisation | None:
    """The owner a new survey gets: the named organisation (admins: or none, the partnership's); staff must
    name one of theirs, or have exactly one."""
    if not org_code:
        if scope.role == "admin":
            return None
        if len(scope.organisation_ids) == 1:
            return s.get(m.Organisation, next(iter(scope.organisation_ids)))
        raise DesignError("say which of your organisations the survey is for")
    org = s.scalar(select(m.Organisation).where(m.Organisation.code_key == org_code.strip().casefold()))
    if org is None:
        raise DesignError(str(unknown("organisation", org_code, s.scalars(select(m.Organisation.code)))))
    if not may_edit(scope, org.id):
        raise Forbidden(f"organisation {org.code!r} is not one of yours")
    return org


def _new_id(s, survey_id: str) -> str:
    survey_id = (survey_id or "").strip()
    if not re.fullmatch(ID_PATTERN, survey_id):
        raise DesignError(f"survey id {survey_id!r}: use lower-case letters, digits, '-' and '_' (at most 64), "
                          "starting with a letter or digit")
    if s.get(m.Survey, survey_id) is not None or s.get(m.SurveyDraft, survey_id) is not None:
        raise DesignError(f"there is already a survey {survey_id!r}; choose another id")
    return survey_id


def template_yaml(survey_id: str, title: str, language: str, org_code: str | None) -> str:
    """A new survey's first draft: valid, two questions, ready to change."""
    data: dict = {
        "id": survey_id, "title": title, "version": "1", "languages": [language],
        "intro": {language: "Hello from {org}. A few quick questions; reply SKIP to skip one, STOP to stop."},
        "questions": [
            {"key": "overall", "type": "scale", "min": 1, "max": 5,
             "min_label": {language: "Poor"}, "max_label": {language: "Great"}, "prompt": {language: "How was your visit, from 1 (poor) to 5 (great)?"}},
            {"key": "why", "type": "text", "optional": True, "prompt": {language: "What is one thing we could do better?"}},
        ],
        "outro": {language: "Thank you. We read every answer."},
    }
    if org_code:
        data["audience"] = {"organisations": [org_code]}
    return survey_yaml(data)


def _put_draft(s, survey_id: str, org_id: int | None, text: str, base: int | None, scope: Scope, now: datetime) -> None:
    draft = s.get(m.SurveyDraft, survey_id)
    if draft is None:
        s.add(m.SurveyDraft(survey_id=survey_id, organisation_id=org_id, yaml_text=text, base_number=base,
                            updated_by=scope.actor, updated_at=now))
    else:
        draft.yaml_text, draft.updated_by, draft.updated_at = text, scope.actor, now


def new_design(db: Store, scope: Scope, survey_id: str, title: str, now: datetime, *, org_code: str | None = None,
               language: str = "en") -> Design:
    """Start a new survey as a draft from the template."""
    _designer(scope)
    title = (title or "").strip()
    if not title:
        raise DesignError("give the survey a title")
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", language or ""):
        raise DesignError(f"language {language!r}: use a code such as en, fr or pt-BR")
    with db.session() as s:
        survey_id = _new_id(s, survey_id)
        org = _org_for(s, scope, org_code)
        _put_draft(s, survey_id, org.id if org else None, template_yaml(survey_id, title, language, org.code if org else None),
                   None, scope, now)
        audit.record_as(s, scope, now, "survey.draft", object_type="survey", object_id=survey_id, detail="new")
    return open_design(db, scope, survey_id)


def save_draft(db: Store, scope: Scope, survey_id: str, text: str, now: datetime, checks: SurveyChecks) -> DesignCheck:
    """Keep the text as the survey's draft, valid or not (nothing is lost); return what checking it says."""
    _designer(scope)
    if len(text) > MAX_YAML:
        raise DesignError(f"the text is {len(text):,} characters; a survey is at most {MAX_YAML:,}")
    with db.session() as s:
        design = _design(s, scope, survey_id)
        _require_edit(scope, design.organisation_id, survey_id)
        base = design.base_number if design.is_draft else design.current
        _put_draft(s, survey_id, design.organisation_id, text, base, scope, now)
    return check_design(design, text, checks)


def discard_draft(db: Store, scope: Scope, survey_id: str, now: datetime) -> bool:
    """Throw the draft away; the published version (if any) is untouched. False when there was none."""
    _designer(scope)
    with db.session() as s:
        design = _design(s, scope, survey_id)
        _require_edit(scope, design.organisation_id, survey_id)
        draft = s.get(m.SurveyDraft, survey_id)
        if draft is None:
            return False
        s.delete(draft)
        audit.record_as(s, scope, now, "survey.discard", object_type="survey", object_id=survey_id)
        return True


@dataclass(frozen=True)
class Published:
    result: LoadResult
    warnings: list[str]


def publish(db: Store, scope: Scope, survey_id: str, now: datetime, checks: SurveyChecks) -> Published:
    """Publish the draft as a new immutable version (or make an identical earlier version current again);
    a draft with problems is refused with every problem, as `chorus surveys validate` prints them."""
    design = open_design(db, scope, survey_id)
    _require_edit(scope, design.organisation_id, survey_id)
    if not design.is_draft:
        raise DesignError(f"survey {survey_id!r} has no draft to publish; edit it and save first")
    checked = check_design(design, design.yaml_text, checks)
    if not checked.ok:
        raise DesignError("the draft cannot be published:\n" + "\n".join(checked.lines(f"{survey_id}.yaml")))
    result = load_survey(db, checked.survey, now)
    with db.session() as s:
        row = s.get(m.Survey, survey_id)
        if row.organisation_id is None and design.organisation_id is not None:
            row.organisation_id = design.organisation_id
        if result.created:
            version = s.scalar(select(m.SurveyVersion).where(m.SurveyVersion.survey_id == survey_id,
                                                             m.SurveyVersion.number == result.number))
            version.published_by = scope.actor
        draft = s.get(m.SurveyDraft, survey_id)
        if draft is not None:
            s.delete(draft)
        audit.record_as(s, scope, now, "survey.publish", object_type="survey", object_id=survey_id,
                        detail=f"version {result.number}" + ("" if result.created else " (unchanged)"))
    return Published(result, checked.warnings)


# ---- versions --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VersionView:
    number: int
    label: str
    created_at: datetime
    published_by: str | None          # None: loaded from a file with `chorus surveys load`
    current: bool
    answers: int


def versions(db: Store, scope: Scope, survey_id: str) -> list[VersionView]:
    """Every published version, newest first, with how many answers each has."""
    design = open_design(db, scope, survey_id)
    V = m.SurveyVersion
    with db.session() as s:
        current_id = s.scalar(select(m.Survey.current_version_id).where(m.Survey.id == survey_id))
        answers = dict(s.execute(select(m.Answer.survey_version_id, func.count()).where(m.Answer.survey_id == survey_id)
                                 .group_by(m.Answer.survey_version_id)).all())
        rows = s.scalars(select(V).where(V.survey_id == design.survey_id).order_by(V.number.desc())).all()
        return [VersionView(v.number, v.label, v.created_at, v.published_by, v.id == current_id, answers.get(v.id, 0))
                for v in rows]


def version_yaml(db: Store, scope: Scope, survey_id: str, number: int) -> str:
    """One published version as YAML (the export; it loads back with `chorus surveys load`)."""
    open_design(db, scope, survey_id)
    with db.session() as s:
        v = s.scalar(select(m.SurveyVersion).where(m.SurveyVersion.survey_id == survey_id, m.SurveyVersion.number == number))
        if v is None:
            known = [str(n) for n in s.scalars(select(m.SurveyVersion.number).where(m.SurveyVersion.survey_id == survey_id))]
            raise DesignError(f"survey {survey_id!r} has no version {number}" +
                              (f" (it has: {', '.join(sorted(known, key=int))})" if known else " (it was never published)"))
        return survey_yaml(v.definition)


@dataclass(frozen=True)
class DiffLine:
    kind: str       # ' ' the same, '-' only in the older, '+' only in the newer, '@' where a change starts
    text: str


def diff_versions(db: Store, scope: Scope, survey_id: str, older: int | str, newer: int | str) -> list[DiffLine]:
    """A readable line-by-line difference between two versions' YAML (each a number, as an int or its digits,
    or 'draft'), with three lines of context around each change; an empty list when they are the same."""
    for which in (older, newer):
        if which != "draft" and not str(which).isdigit():
            raise DesignError("choose two versions to compare")

    def text(which: int | str) -> str:
        if which == "draft":
            design = open_design(db, scope, survey_id)
            if not design.is_draft:
                raise DesignError(f"survey {survey_id!r} has no draft")
            return design.yaml_text
        return version_yaml(db, scope, survey_id, int(which))

    a, b = text(older), text(newer)
    out = []
    for line in list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=3))[2:]:
        kind = "@" if line.startswith("@@") else line[:1]
        out.append(DiffLine(kind, line if kind == "@" else line[1:]))
    return out


# ---- duplicate, import -----------------------------------------------------------------------------
def _retarget(text: str, new_id: str, org_code: str | None, *, title_suffix: str = "") -> str:
    """The survey's YAML with a new id (and title), its audience set to the new owner; text that does not parse
    is kept as it is but for its first `id:` line (a draft may be invalid)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        return re.sub(r"(?m)^id:.*$", f"id: {new_id}", text, count=1)
    data["id"] = new_id
    if title_suffix and isinstance(data.get("title"), str):
        data["title"] = data["title"] + title_suffix
    if org_code is not None:
        audience = data.get("audience") if isinstance(data.get("audience"), dict) else {}
        data["audience"] = {**audience, "organisations": [org_code]}
    try:
        return survey_yaml(parse_survey(data, f"{new_id}.yaml").to_dict())
    except SurveyError:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def duplicate(db: Store, scope: Scope, survey_id: str, new_id: str, now: datetime, *,
              org_code: str | None = None) -> Design:
    """A new draft from a survey (its draft, or its published version) under a new id, owned by `org_code`."""
    source = open_design(db, scope, survey_id)
    with db.session() as s:
        new_id = _new_id(s, new_id)
        org = _org_for(s, scope, org_code)
        text = _retarget(source.yaml_text, new_id, org.code if org else None, title_suffix=" (copy)")
        _put_draft(s, new_id, org.id if org else None, text, None, scope, now)
        audit.record_as(s, scope, now, "survey.draft", object_type="survey", object_id=new_id,
                        detail=f"duplicate of {survey_id}")
    return open_design(db, scope, new_id)


def import_yaml(db: Store, scope: Scope, text: str, now: datetime, checks: SurveyChecks, *,
                org_code: str | None = None) -> tuple[Design, DesignCheck]:
    """A YAML file becomes the draft of the survey it names: a new survey's, or an existing one's new draft
    (when the scope may edit it). Its id must be readable; the rest may still have problems (shown)."""
    _designer(scope)
    if len(text) > MAX_YAML:
        raise DesignError(f"the file is {len(text):,} characters; a survey is at most {MAX_YAML:,}")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DesignError(f"the file is not YAML: {str(exc).splitlines()[0]}") from None
    survey_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(survey_id, str) or not re.fullmatch(ID_PATTERN, survey_id):
        raise DesignError("the file has no usable survey id (a line like 'id: weekly-checkin' at the top)")
    with db.session() as s:
        exists = s.get(m.Survey, survey_id) is not None or s.get(m.SurveyDraft, survey_id) is not None
        org = None if exists else _org_for(s, scope, org_code)
        if not exists:
            _put_draft(s, survey_id, org.id if org else None, text, None, scope, now)
            audit.record_as(s, scope, now, "survey.draft", object_type="survey", object_id=survey_id, detail="import")
    if exists:
        checked = save_draft(db, scope, survey_id, text, now, checks)
        return open_design(db, scope, survey_id), checked
    design = open_design(db, scope, survey_id)
    return design, check_design(design, text, checks)


# ---- schedule --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Occurrence:
    at: datetime                      # aware, in the survey's timezone
    clock_change: str | None          # 'summer time starts' / 'summer time ends' before this one, else None


def next_occurrences(survey: Survey, default_timezone: str, now: datetime, count: int = 6) -> list[Occurrence]:
    """The schedule's next firings in its timezone, each marked when the clocks changed since the one before
    (or since now, for the first): the same wall-clock time is then a different UTC time."""
    if survey.schedule is None:
        return []
    from zoneinfo import ZoneInfo

    sched = survey.schedule
    tz = sched.timezone or default_timezone
    zone = ZoneInfo(tz)
    rule = parse_schedule_rule(sched.rule)
    found: list[datetime] = []
    after, horizon = now, now + timedelta(days=400)
    while len(found) < count and after < horizon:
        until = min(after + timedelta(days=62), horizon)
        found += occurrences(rule, tz, after, until, sched.start, sched.end)
        after = until
    out, before = [], now.astimezone(zone).utcoffset()
    for at in found[:count]:
        local = at.astimezone(zone)
        offset = local.utcoffset()
        change = None if offset == before else ("summer time starts" if offset > before else "summer time ends")
        out.append(Occurrence(local, change))
        before = offset
    return out
