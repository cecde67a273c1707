"""The designer's form model: a survey as flat, named form fields (strings), and back.

`to_fields(definition)` turns a stored or parsed survey (`Survey.to_dict()` shape) into fields a plain HTML form
can carry; `from_fields(fields)` turns a submitted form back into survey data, which the loader then checks
exactly as it checks a file (so the form and the YAML editor say the same things). Both ways keep the meaning:
`parse_survey(from_fields(to_fields(s.to_dict())))` equals `s` (a property test holds it). `field_for(path)`
names the form field a loader problem is about ("questions[0].prompt.es" -> "q0.prompt.es"), so a message
can sit next to its field.

Field names (each value a string; an empty one leaves the key out):
  title, version, languages ("en, es")             intro.<lang>, outro.<lang>
  q<i>.key, q<i>.type, q<i>.optional ("yes"), q<i>.min, q<i>.max
  q<i>.prompt.<lang>, q<i>.min_label.<lang>, q<i>.max_label.<lang>
  q<i>.c<j>.key, q<i>.c<j>.label.<lang>             a choice
  q<i>.r<k>.op, q<i>.r<k>.value, q<i>.r<k>.goto     a branching rule (op empty: always); the value as YAML
                                                      (3, yes, [a, b], [1, 3]), so its type is kept
  schedule.rule, schedule.timezone, schedule.start, schedule.end, schedule.fatigue_days
  audience.organisations, audience.tags, audience.channels, audience.languages ("a, b")
  reminders.not_started_after_hours, reminders.not_finished_after_hours, expire_after_hours
"""
from __future__ import annotations

import re

import yaml

TEXTS = ("prompt", "min_label", "max_label")
SCHEDULE = ("rule", "timezone", "start", "end", "fatigue_days")
AUDIENCE = ("organisations", "tags", "channels", "languages")
REMINDERS = ("not_started_after_hours", "not_finished_after_hours")
_FIELD = re.compile(r"q(\d+)\.(?:c(\d+)\.|r(\d+)\.)?")


def _scalar(value: object) -> str:
    """A rule's value as the YAML a person would type: 3, yes, 'yes' (the word), [a, b]."""
    if isinstance(value, tuple):
        value = list(value)
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip() \
        .removesuffix("\n...").removesuffix("...").strip()


def to_fields(d: dict) -> dict[str, str]:
    """A survey's data (`Survey.to_dict()` shape) as form fields."""
    f: dict[str, str] = {"title": str(d.get("title", "")), "version": str(d.get("version", "")),
                         "languages": ", ".join(d.get("languages", []))}
    for part in ("intro", "outro"):
        for lang, text in (d.get(part) or {}).items():
            f[f"{part}.{lang}"] = text
    for i, q in enumerate(d.get("questions", [])):
        p = f"q{i}."
        f[p + "key"], f[p + "type"] = q["key"], q["type"]
        f[p + "optional"] = "yes" if q.get("optional") else ""
        for bound in ("min", "max"):
            if q.get(bound) is not None and q["type"] == "scale":
                f[p + bound] = str(q[bound])
        for name in TEXTS:
            for lang, text in (q.get(name) or {}).items():
                f[f"{p}{name}.{lang}"] = text
        for j, c in enumerate(q.get("choices", [])):
            f[f"{p}c{j}.key"] = c["key"]
            for lang, text in c["label"].items():
                f[f"{p}c{j}.label.{lang}"] = text
        for k, rule in enumerate(q.get("next", [])):
            when = rule.get("when")
            ((op, value),) = when.items() if when else (("", None),)
            f[f"{p}r{k}.op"], f[f"{p}r{k}.goto"] = op, rule["goto"]
            f[f"{p}r{k}.value"] = "" if not op else _scalar(value)
    for name in SCHEDULE:
        value = (d.get("schedule") or {}).get(name)
        if value is not None:
            f[f"schedule.{name}"] = str(value)
    for name in AUDIENCE:
        values = (d.get("audience") or {}).get(name)
        if values:
            f[f"audience.{name}"] = ", ".join(values)
    for name in REMINDERS:
        value = (d.get("reminders") or {}).get(name)
        if value is not None:
            f[f"reminders.{name}"] = str(value)
    if d.get("expire_after_hours") is not None:
        f["expire_after_hours"] = str(d["expire_after_hours"])
    return f


def _number(text: str) -> object:
    """A whole number when it is one; otherwise the text as typed, for the loader to name the problem."""
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else text


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _texts(fields: dict[str, str], prefix: str) -> dict[str, str] | None:
    found = {name[len(prefix):]: value for name, value in fields.items()
             if name.startswith(prefix) and "." not in name[len(prefix):] and value.strip()}
    return found or None


def _indexes(fields: dict[str, str], pattern: str) -> list[int]:
    return sorted({int(m.group(1)) for name in fields if (m := re.match(pattern, name))})


def _value(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def from_fields(fields: dict[str, str], survey_id: str) -> dict:
    """Survey data from a submitted form, in file order, for the loader to check. Nothing is checked here."""
    fields = {k: v.replace("\r\n", "\n") for k, v in fields.items() if isinstance(v, str)}
    get = lambda name: fields.get(name, "").strip()  # noqa: E731
    d: dict = {"id": survey_id, "title": get("title"), "version": get("version"),
               "languages": _list(get("languages"))}
    d["intro"] = _texts(fields, "intro.") or {}
    questions = []
    for i in _indexes(fields, r"q(\d+)\."):
        p = f"q{i}."
        if not any(v.strip() for k, v in fields.items() if k.startswith(p) and not k.endswith(".type")):
            continue                      # the form's empty question row (for adding one)
        q: dict = {"key": get(p + "key"), "type": get(p + "type")}
        if get(p + "optional").lower() in ("yes", "true", "on", "1"):
            q["optional"] = True
        for bound in ("min", "max"):
            if get(p + bound) and q["type"] == "scale":
                q[bound] = _number(get(p + bound))
        for name in TEXTS:
            texts = _texts(fields, f"{p}{name}.")
            if texts is not None or name == "prompt":
                q[name] = texts or {}
        choices = [{"key": get(f"{p}c{j}.key"), "label": _texts(fields, f"{p}c{j}.label.") or {}}
                   for j in _indexes(fields, rf"q{i}\.c(\d+)\.")]
        choices = [c for c in choices if c["key"] or c["label"]]
        if choices:
            q["choices"] = choices
        rules = []
        for k in _indexes(fields, rf"q{i}\.r(\d+)\."):
            op, goto = get(f"{p}r{k}.op"), get(f"{p}r{k}.goto")
            if not op and not goto:
                continue                  # an empty row of the form
            rule: dict = {"when": {op: _value(fields.get(f"{p}r{k}.value", ""))}} if op else {}
            rule["goto"] = goto
            rules.append(rule)
        if rules:
            q["next"] = rules
        questions.append(q)
    d["questions"] = questions
    d["outro"] = _texts(fields, "outro.") or {}
    schedule = {name: _number(get(f"schedule.{name}")) if name == "fatigue_days" else get(f"schedule.{name}")
                for name in SCHEDULE if get(f"schedule.{name}")}
    if schedule:
        d["schedule"] = schedule
    audience = {name: _list(get(f"audience.{name}")) for name in AUDIENCE if _list(get(f"audience.{name}"))}
    if audience:
        d["audience"] = audience
    reminders = {name: _number(get(f"reminders.{name}")) for name in REMINDERS if get(f"reminders.{name}")}
    if reminders:
        d["reminders"] = reminders
    if get("expire_after_hours"):
        d["expire_after_hours"] = _number(get("expire_after_hours"))
    return d


def field_for(path: str, reason: str = "") -> str:
    """The form field a loader problem's path is about ("questions[2].choices[0].label.es" -> "q2.c0.label.es");
    the nearest one when the problem is about a whole part ("questions[2]" -> "q2.key"); a missing translation
    names its language's field."""
    missing = re.match(r"missing translation for '([^']+)'", reason)
    if missing:
        path = f"{path}.{missing.group(1)}"
    out = re.sub(r"^questions\[(\d+)\]", r"q\1", path)
    out = re.sub(r"\.choices\[(\d+)\]", r".c\1", out)
    out = re.sub(r"\.next\[(\d+)\]", r".r\1", out)
    out = re.sub(r"\.when(\.\w+)?$", ".value", out)
    if re.fullmatch(r"q\d+", out):
        return out + ".key"
    if re.fullmatch(r"q\d+\.(c|r)\d+", out):
        return out + (".key" if ".c" in out else ".goto")
    return out


def layout(fields: dict[str, str]) -> dict:
    """What the form shows: the languages, and per question the indexes of its choices and rules, each with one
    empty row more (to add one without script), and one empty question more."""
    langs = _list(fields.get("languages", "")) or ["en"]
    qs = _indexes(fields, r"q(\d+)\.")
    out = []
    for i in qs + [max(qs, default=-1) + 1]:
        cs = _indexes(fields, rf"q{i}\.c(\d+)\.")
        rs = _indexes(fields, rf"q{i}\.r(\d+)\.")
        out.append({"i": i, "choices": cs + [max(cs, default=-1) + 1], "rules": rs + [max(rs, default=-1) + 1],
                    "new": i not in qs})
    return {"languages": langs, "questions": out}


def fields_for_text(text: str, survey_data: dict | None) -> dict[str, str] | None:
    """The form's fields for a draft: from its checked survey when it has one (`survey_data`, as
    `Survey.to_dict()`); else from the YAML as it reads (best effort, so a draft with problems still shows in the
    form); None when the text does not read as a survey at all."""
    if survey_data is not None:
        return to_fields(survey_data)
    try:
        return to_fields(yaml.safe_load(text))
    except Exception:        # any shape YAML may take: the form then says to fix the YAML first
        return None


def errors_by_field(problems: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The loader's problems (path, reason) grouped by the form field each is about."""
    out: dict[str, list[str]] = {}
    for path, reason in problems:
        out.setdefault(field_for(path, reason), []).append(reason)
    return out
