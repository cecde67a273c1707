"""The digest over a year of data, on SQLite and PostgreSQL:

1. time to build the digest value (every figure, theme and quote) over 1,000,000 stored answers from 52
   weeks and 20 organisations (target under 3 s), and the building process's peak memory (target under
   300 MB), measured in a fresh process so loading the data does not count;
2. rendering (HTML email, charts, printable HTML, Markdown, JSON), timed separately.

The data is written straight into the real tables (bulk inserts; the tagger's tags precomputed per distinct
text), shaped like production: weekly waves, about 60% of invitations answered, five or six answers per
conversation, free text with sentiment tags, some staff corrections, a few flags.

    python benchmarks/digest.py [--answers 1000000] [--backend both|sqlite|postgresql] [--keep FILE]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from benchmarks.common import PG_URL, machine, postgres_schema  # noqa: E402

TZ = "Europe/London"
WEEKS, ORGS = 52, 20
LAST_WEEK = (2026, 47)
OPENERS = ["the", "honestly the", "tbh", "", "really", "i think the", "ok so the"]
SUBJECTS = ["waiting times", "queue", "staff", "volunteers", "food parcel", "fresh veg", "advice", "phone line",
            "opening hours", "building", "heating", "toilets", "kids corner", "bus route", "appointment system",
            "benefits advice", "housing help", "debt advice", "cafe", "school uniform bank"]
VERBS_POS = ["were so kind", "was brilliant", "really helped", "was lovely thx", "was gr8", "made a big difference 👍",
             "was spot on", "sorted everything out"]
VERBS_NEG = ["was far too long", "is awful now", "never answers", "was rubbish", "was freezing :(",
             "keeps changing", "was a nightmare", "made me wait hours"]
VERBS_NEU = ["was ok", "was the same as usual", "is on tuesdays", "was fine i guess"]


def _texts(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        kind = rng.random()
        verb = rng.choice(VERBS_POS if kind < 0.45 else VERBS_NEG if kind < 0.85 else VERBS_NEU)
        text = f"{rng.choice(OPENERS)} {rng.choice(SUBJECTS)} {verb}".strip()
        if rng.random() < 0.3:
            text += f" but the {rng.choice(SUBJECTS)} {rng.choice(VERBS_NEG if kind < 0.45 else VERBS_POS)}"
        out.append(text)
    return out


def seed(url: str, answers_wanted: int, seed_: int = 11) -> dict:
    """Write the year of data. Returns counts."""
    from analysis.safeguarding import Safeguarding
    from analysis.sentiment import SentimentTagger
    from analysis.tagger import AnswerAnalysis
    from analysis.weeks import previous_week, week_bounds
    from config.migrate import upgrade
    from config.settings import load_settings
    from surveys import admin
    from surveys import models as m
    from surveys.loader import load_survey_file
    from surveys.store import Store, make_sql_engine

    rng = random.Random(seed_)
    sql_engine = make_sql_engine(url)
    upgrade(sql_engine)
    settings = load_settings(env={"DATABASE_URL": url, "CHORUS_SECRET_KEY": "bench-secret-0123456789",
                                  "CHORUS_VAR_DIR": tempfile.mkdtemp()}, dotenv=False)
    db = Store(settings, sql_engine=sql_engine)
    now = datetime(2025, 11, 1, tzinfo=timezone.utc)
    admin.load_survey(db, load_survey_file(ROOT / "tests/transcripts/surveys/pantry.yaml"), now)
    with db.read() as conn:
        version = conn.execute(select(m.Survey.current_version_id).where(m.Survey.id == "pantry")).scalar()
    orgs = [admin.add_organisation(db, f"Organisation {i:02d}", f"org{i:02d}", now) for i in range(ORGS)]
    tagger = AnswerAnalysis(SentimentTagger(), Safeguarding())
    pool = _texts(rng, 3000) + ["i dont want to be here anymore"]
    tags = {t: tagger.tag(t, "en", {"free_text": True}) for t in pool}
    # 60% respond, with about 5.25 answers each (4 closed questions, why_low after a low visit, free text 85%)
    per_week_org = max(1, round(answers_wanted / (WEEKS * ORGS * 0.6 * 5.2)))
    people_per_org = per_week_org * 4
    contacts, enrolments, invitations, conversations, answers, waves, flags, labels = [], [], [], [], [], [], [], []
    messages = []       # each invitation's message, sent (the digest counts only invitations actually sent)
    cid = eid = 0
    for o, org in enumerate(orgs):
        for _ in range(people_per_org):
            cid += 1
            eid += 1
            contacts.append(dict(id=cid, channel="local", address=f"+4477009{cid:05d}"[-13:],
                                 address_hash=f"bench{cid}", language="en", state={}, created_at=now))
            enrolments.append(dict(id=eid, contact_id=cid, organisation_id=org, consent_status="given",
                                   consent_participate=True, consent_quote=rng.random() < 0.6, source="staff", tags=[],
                                   created_at=now))
    weeks = [previous_week(*LAST_WEEK, n) for n in range(WEEKS)]
    iid = vid = aid = 0
    for w, (year, week) in enumerate(weeks):
        start, _ = week_bounds(year, week, TZ)
        at = start + timedelta(days=1, hours=10)
        waves.append(dict(id=w + 1, survey_id="pantry", survey_version_id=version, scheduled_for=at,
                          kind="scheduled", status="open", created_at=at))
        for o in range(ORGS):
            people = rng.sample(range(o * people_per_org + 1, (o + 1) * people_per_org + 1), per_week_org)
            for person in people:
                iid += 1
                vid += 1
                responded = rng.random() < 0.6
                completed = responded and rng.random() < 0.8
                t = at + timedelta(minutes=rng.randint(1, 3000))
                conversations.append(dict(id=vid, contact_id=person, enrolment_id=person, survey_version_id=version,
                                          status="completed" if completed else "expired", question=None, attempts=0,
                                          language="en", started_at=at, last_activity_at=t, ended_at=t))
                invitations.append(dict(id=iid, wave_id=w + 1, contact_id=person, enrolment_id=person,
                                        channel="local", language="en", status="started", not_before=at,
                                        conversation_id=vid, created_at=at, started_at=at))
                messages.append(dict(channel="local", direction="out", contact_id=person, conversation_id=vid,
                                     kind="text", text="How was your visit?", status="sent", purpose="invitation",
                                     invitation_id=iid, not_before=at, units=1, attempts=1, created_at=at,
                                     sent_at=at))
                if not responded:
                    continue
                mood = rng.random()
                visit = 1 + min(4, int(mood * 5))
                items = [("visit", "scale", visit, None), ("travel", "choice", rng.randint(1, 3), None),
                         ("enough", "yesno", 1 if mood > 0.3 else 0, None),
                         ("recommend", "nps", min(10, int(mood * 11)), None)]
                if visit <= 2:
                    items.append(("why_low", "text", None, rng.choice(pool[:3000])))
                if rng.random() < 0.85:
                    items.append(("anything", "text", None, rng.choice(pool[:3000])))
                if rng.random() < 0.0002:
                    items.append(("anything", "text", None, pool[-1]))
                for key, qtype, num, text in items:
                    aid += 1
                    answers.append(dict(id=aid, conversation_id=vid, contact_id=person, enrolment_id=person,
                                        organisation_id=orgs[o], survey_id="pantry", survey_version_id=version,
                                        message_id=None, question_key=key, question_type=qtype, status="answered",
                                        raw_text=text if text is not None else str(num), value_num=num,
                                        value_text=None, language="en", answered_at=t,
                                        tags=tags[text] if text is not None else None))
                    if text is not None and tags[text] and tags[text].get("flag"):
                        flags.append(dict(answer_id=aid, organisation_id=orgs[o], survey_id="pantry",
                                          categories=["suicide"], rules=["suicide.bench"], status="open",
                                          created_at=t))
                    elif text is not None and rng.random() < 0.01:
                        labels.append(dict(answer_id=aid, label=rng.choice(["positive", "negative", "neutral"]),
                                           by="bench", created_at=t))
    T = m.Base.metadata.tables
    with sql_engine.begin() as conn:
        for name, rows in (("contact", contacts), ("enrolment", enrolments), ("wave", waves),
                           ("conversation", conversations), ("invitation", invitations), ("message", messages),
                           ("answer", answers),
                           ("flag", flags), ("answer_label", labels)):
            for i in range(0, len(rows), 20_000):
                conn.execute(T[name].insert(), rows[i:i + 20_000])
        if sql_engine.dialect.name == "postgresql":
            for table in ("contact", "enrolment", "wave", "conversation", "invitation", "message", "answer"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
    sql_engine.dispose()
    return {"answers": len(answers), "invitations": len(invitations), "organisations": ORGS, "weeks": WEEKS,
            "flags": len(flags), "labels": len(labels)}


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: the latter survives exec and would
    count the seeding parent's memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str) -> dict:
    """In a fresh process: build the digest value, then render it; time both and report peak memory."""
    from analysis.digest.build import Options, build
    from config.settings import load_settings
    from surveys.store import Store, make_sql_engine

    settings = load_settings(env={"DATABASE_URL": url, "CHORUS_SECRET_KEY": "bench-secret-0123456789",
                                  "CHORUS_VAR_DIR": tempfile.mkdtemp()}, dotenv=False)
    db = Store(settings, sql_engine=make_sql_engine(url))
    cutoff = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
    import analysis.digest.archive  # noqa: F401  (imports outside the timing)
    rss_before = _peak_mb()
    t0 = time.perf_counter()
    digest = build(db, Options(*LAST_WEEK, TZ, cutoff, partnership="Benchmark Partnership"), cutoff)
    build_s = time.perf_counter() - t0
    rss_build = _peak_mb()
    from analysis.digest.archive import files_for

    t1 = time.perf_counter()
    files = files_for(digest.to_dict())
    render_s = time.perf_counter() - t1
    return {"build_s": build_s, "render_s": render_s, "peak_mb": rss_build, "start_mb": rss_before,
            "files": len(files), "themes": sum(len(p.themes) for p in digest.surveys),
            "quotes": sum(len(p.quotes) for p in digest.surveys), "summary": digest.summary[:2]}


def run(backend: str, url: str, answers: int, rounds: int) -> None:
    t0 = time.perf_counter()
    counts = seed(url, answers)
    print(f"{backend}: seeded {counts['answers']:,} answers, {counts['invitations']:,} invitations, "
          f"{counts['organisations']} organisations, {counts['weeks']} weeks in {time.perf_counter() - t0:.0f} s",
          flush=True)
    results = []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, __file__, "--measure", url], capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            print(out.stderr)
            raise SystemExit(1)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in results:
        print(f"{backend}: digest value built in {r['build_s']:.2f} s (target under 3 s); peak memory "
              f"{r['peak_mb']:.0f} MB (target under 300 MB; {r['start_mb']:.0f} MB after imports); rendered "
              f"{r['files']} files in {r['render_s']:.2f} s; {r['themes']} themes, {r['quotes']} quotes", flush=True)
    best = min(results, key=lambda r: r["build_s"])
    print(f"{backend}: best of {rounds}: build {best['build_s']:.2f} s, peak {best['peak_mb']:.0f} MB, "
          f"render {best['render_s']:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=1_000_000)
    ap.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    print(f"machine: {machine()}")
    if args.backend in ("both", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{tmp}/digest.db", args.answers, args.rounds)
    if args.backend in ("both", "postgresql"):
        try:
            with postgres_schema(PG_URL) as url:
                run("PostgreSQL", url, args.answers, args.rounds)
        except Exception as exc:  # noqa: BLE001 - report and carry on, as the other benchmarks do
            print(f"PostgreSQL: skipped ({exc.__class__.__name__}: {exc})")


if __name__ == "__main__":
    main()
