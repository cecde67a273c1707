"""The digest says what is true (issue 11, "Digest figures"), on both databases: it counts people (and says
so), apart from invitations; only invitations actually sent invite anyone; a figure hidden by difference is
never called "fewer than 5"; a one-organisation digest names the organisation, quotes nobody from a handful
of respondents, prints no interval for a withheld score; and it says when no safeguarding contact is set."""
from __future__ import annotations

import copy
import dataclasses
import json
import re
from datetime import timedelta

import pytest

from analysis.digest.build import Options, build
from analysis.digest.model import Figure
from analysis.digest.render_html import render_html_email, render_print_html
from analysis.digest.render_text import render_markdown, render_text
from surveys import flags
from surveys.store import Store
from tests.digest_data import Data, Person
from tests.test_digest_build import CUTOFF, TZ, W46, W47
from tests.test_digest_render import visible_html


WITHHELD = "fewer than 5"                                  # small: a count of 1 to 4 people
WITHHELD_DIFFERENCE = "withheld to protect small numbers"  # hidden only so that another cannot be worked out


def P(org, **kw):
    return Person(org, **kw)


def formats(d: dict) -> dict[str, str]:
    """Every renderer's words, flattened (HTML as a reader sees it)."""
    html, _ = render_html_email(d, pngs={})
    out = {"text": render_text(d), "markdown": render_markdown(d), "email": visible_html(html),
           "print": visible_html(render_print_html(d, pngs={}))}
    return {k: re.sub(r"\s+", " ", v.replace("\\", "").replace("**", "")) for k, v in out.items()}


def as_json(digest) -> dict:
    return json.loads(json.dumps(digest.to_dict()))


# ---- 1. people, not invitations ---------------------------------------------------------------------------
@pytest.fixture
def repeated(db):
    """8 people at the food bank, each invited on Tuesday; 4 of them invited again on Thursday (12
    invitations). 4 answered on Tuesday and one more on Thursday: 5 people answered (6 invitations were
    answered). Two more people's invitations were never sent (one waits in the outbox, one failed)."""
    d = Data(db, W46 - timedelta(days=30))
    d.org("food", "Riverside Food Bank")
    first = d.week(W47, [P("food", responded=i < 4, completed=i < 2) for i in range(8)])
    d.week(W47, [P("food", message="pending"), P("food", message="failed")])
    d.again(W47 + timedelta(days=2), [(first[0], P("food", responded=True)), (first[4], P("food", responded=True)),
                                      (first[5], P("food", responded=False)), (first[6], P("food", responded=False))])
    return d


def test_participation_counts_people_once_however_many_invitations(db, repeated):
    for org in (None, "food"):
        d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF, org_code=org), CUTOFF)
        t = d.total
        assert t.people_invited == Figure(8), org             # not 14 invitations, nor the 2 never sent
        assert t.people_responded == Figure(5), org           # not 6 answered invitations
        assert t.invitations_sent == Figure(12), org
        assert t.response_rate == Figure(round(5 / 8, 4)), org
        assert t.people_completed == Figure(0) or t.people_completed.suppressed
        assert d.summary[0].startswith("5 of the 8 people invited this week answered (62%)")
        assert "They were sent 12 invitations in all" in d.summary[0]
        j = as_json(d)
        assert {"people_invited", "people_responded", "people_completed", "invitations_sent"} <= set(j["total"])
        assert "invitations" not in j["total"] and "responses" not in j["total"]
        assert {"people_invited", "people_responded"} <= set(j["trend"][-1])
        for name, out in formats(j).items():
            assert "People invited: 8" in out or "People invited 8" in out, name
            assert "12 invitations sent" in out, name
            assert "5 of the 8 people invited this week answered" in out, name


def test_an_invitation_never_sent_invites_nobody(db):
    d = Data(db, W46 - timedelta(days=30))
    d.org("food", "Riverside Food Bank")
    d.week(W47, [P("food", responded=False, message="pending") for _ in range(6)])
    d.week(W47, [P("food", responded=False, message="cancelled") for _ in range(3)])
    digest = build(db, Options(2026, 47, TZ, cutoff=CUTOFF, org_code="food"), CUTOFF)
    assert digest.total.people_invited == Figure(0) and digest.total.invitations_sent == Figure(0)
    assert not any("invited" in s for s in digest.summary)


# ---- 2. primary and secondary suppression read differently -------------------------------------------------
@pytest.fixture
def three_orgs(db):
    """advice: 3 of 8 answered (small); youth: 6 of 6 answered, hidden only so advice's 3 cannot be worked out."""
    d = Data(db, W46 - timedelta(days=30))
    d.org("food", "Riverside Food Bank")
    d.org("advice", "Northside Advice")
    d.org("youth", "Youth Drop-in")
    d.week(W47, [P("food", responded=i < 10) for i in range(20)] + [P("advice", responded=i < 3) for i in range(8)]
           + [P("youth") for _ in range(6)])
    return d


def test_a_figure_hidden_by_difference_is_not_called_fewer_than_5(db, three_orgs):
    d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF)
    rows = {r.code: r for r in d.organisations}
    assert rows["advice"].people_responded == Figure.withheld("small")
    assert rows["youth"].people_responded == Figure.withheld("difference")      # it is 6
    assert rows["youth"].response_rate == Figure.withheld("difference")
    assert rows["advice"].response_rate == Figure.withheld("small")
    j = as_json(d)
    youth = next(r for r in j["organisations"] if r["code"] == "youth")
    assert youth["people_responded"] == {"value": None, "suppressed": True, "reason": "difference"}
    advice = next(r for r in j["organisations"] if r["code"] == "advice")
    assert advice["people_responded"] == {"value": None, "suppressed": True, "reason": "small"}
    for name, out in formats(j).items():
        youth_row = re.search(r"Youth Drop-in[^A-Z]*", out).group(0)
        assert WITHHELD_DIFFERENCE in youth_row and WITHHELD not in youth_row.replace("(fewer than 5)", ""), name
        assert "Northside Advice" in out and WITHHELD in out, name
        assert "Withheld to protect small numbers\u201d: a figure that is not small itself" in out, name


def test_renderers_word_each_reason_and_never_call_an_unexplained_withheld_figure_small():
    from tests.digest_sample import sample_digest

    d = json.loads(json.dumps(sample_digest().to_dict()))
    d["organisations"][1]["completion_rate"] = {"value": None, "suppressed": True}        # no reason recorded
    markdown = render_markdown(d)
    assert "| Northside Advice Centre | 180 | withheld to protect small numbers | 60 | 262 |" in markdown
    assert ("| Northside Advice Centre | withheld to protect small numbers | withheld to protect small numbers "
            "| withheld to protect small numbers |") in markdown
    assert "| Youth Drop-in | 12 | fewer than 5 | fewer than 5 | 18 |" in markdown
    assert "| Youth Drop-in | withheld (fewer than 5) | withheld (fewer than 5) | withheld (fewer than 5) |" in markdown
    for name, out in formats(d).items():
        assert WITHHELD_DIFFERENCE in out and "Northside Advice Centre" in out, name
        assert out.count("to protect the people who answered") == 1, name      # each reason explained once
        assert out.count("a figure that is not small itself") == 1, name


# ---- 3. a one-organisation digest --------------------------------------------------------------------------
@pytest.fixture
def small_org(db):
    """Northside Advice: 8 people invited (and 2 whose invitation was never sent); 3 answered, with scores and
    quotable words."""
    d = Data(db, W46 - timedelta(days=30))
    d.org("advice", "Northside Advice")
    words = ["the advisers really helped me with my housing letter", "waiting far too long to be seen again",
             "friendly people and a warm room to wait in"]
    d.week(W47, [P("advice", responded=i < 3, completed=i < 3, visit=4 if i < 3 else None,
                   recommend=9 if i < 3 else None, text=words[i] if i < 3 else None,
                   label=("positive", "negative", "positive")[i] if i < 3 else None, polarity=0.5 if i != 1 else -0.5,
                   quote_ok=True) for i in range(8)]
           + [P("advice", responded=False, message="pending"), P("advice", responded=False, message="failed")])
    return d


@pytest.mark.parametrize("org", ["ADVICE", None])
def test_a_digest_of_a_handful_of_respondents_tells_the_truth(db, small_org, org):
    d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF, org_code=org, partnership="Riverside Partnership"), CUTOFF)
    assert d.total.people_invited == Figure(8) and d.total.invitations_sent == Figure(8)   # not 10
    (part,) = d.surveys
    assert part.responses.suppressed and part.quotes == []          # 3 people answered: nobody is quoted
    assert d.summary[0] == "Fewer than 5 of the 8 people invited this week answered, so the response rate is withheld."
    j = as_json(d)
    for name, out in formats(j).items():
        assert "Average withheld: fewer than 5 answers" in out, name
        assert "Net Promoter Score withheld: fewer than 5 answers" in out, name
        assert "fewer than 5 to fewer than 5" not in out and "Average fewer than 5" not in out, name
        assert "fewer than 5 answers; fewer than 5 answers" not in out, name
        assert "Net Promoter Score fewer than 5" not in out, name
        assert "confidence interval" not in out.lower().split("about the numbers")[0], name
        assert "Too few people were invited" not in out and "too few people were invited" not in out, name
        assert "the housing letter" not in out and "warm room" not in out, name
        if org:
            assert "For Northside Advice" in out and not re.search(r"For (ADVICE|advice)", out), name
            assert re.search("The last 8 weeks, Northside Advice", out, re.I) and "all organisations" not in out.lower(), name
            assert "Partnership total" not in out, name
        else:
            assert re.search("The last 8 weeks, the whole partnership", out, re.I), name


def test_quotes_return_once_five_people_answered(db, small_org):
    words = [f"the service was useful to me, thank you, visit {i}" for i in range(2)]
    small_org.week(W47 + timedelta(hours=1), [P("advice", text=w, label="positive", polarity=0.4, quote_ok=True)
                                              for w in words])
    d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF, org_code="advice"), CUTOFF)
    (part,) = d.surveys
    assert part.responses == Figure(5) and part.quotes


# ---- 5. safeguarding: say what is true ---------------------------------------------------------------------
def test_the_digest_says_loudly_when_no_safeguarding_contact_is_set(db, small_org):
    small_org.week(W47, [P("advice", text="i dont want to be here anymore", label="negative", flag=True)])
    d = as_json(build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF))
    assert d["safeguarding"]["contact_set"] is False
    assert any("safeguarding contact" in s for s in d["summary"])
    assert not any("following each one up" in s for s in d["summary"])
    for name, out in formats(d).items():
        assert "Not every organisation has a safeguarding contact" in out, name
        assert out.count("alerts nobody") >= 2, name               # in the summary and in its own section
        assert "following each one up" not in out, name
        assert "Flags page of the staff console" in out, name     # the console always serves it (no link: no address)
        assert "chorus flags list" in out and "chorus flags show" in out, name
    one = as_json(build(db, Options(2026, 47, TZ, cutoff=CUTOFF, org_code="advice"), CUTOFF))
    assert "No safeguarding contact is set for this organisation" in formats(one)["text"]

    flags.store_safeguarding_contact(db, None, "email", "safeguarding@riverside.example", CUTOFF - timedelta(days=1))
    # an email contact where no email can be sent (no SMTP_HOST: the worker fails the alert) alerts nobody
    assert not db.settings.smtp_host
    d = as_json(build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF))
    assert d["safeguarding"]["contact_set"] is False
    assert "alerts nobody" in formats(d)["text"]
    mail = Store(dataclasses.replace(db.settings, smtp_host="smtp.example.org"), sql_engine=db.sql_engine)
    d = as_json(build(mail, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF))
    assert d["safeguarding"]["contact_set"] is True
    for name, out in formats(d).items():
        assert "alerts nobody" not in out, name
    # a contact added after the cut-off does not change a rebuild of that week
    late = copy.deepcopy(CUTOFF) + timedelta(days=3)
    assert as_json(build(mail, Options(2026, 47, TZ, cutoff=CUTOFF - timedelta(days=2)), late))["safeguarding"][
        "contact_set"] is False
