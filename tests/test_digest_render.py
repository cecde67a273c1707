"""Digest renderers: every format from the JSON dict, small numbers withheld in words, NA as a dash, user text
escaped, redaction tokens intact, byte-identical output, and the email's MIME structure."""
from __future__ import annotations

import base64
import copy
import email
import hashlib
import io
import json
import math
import os
import re
import struct
import subprocess
import sys
from email import policy
from html import escape
from pathlib import Path

import pytest

from analysis.digest import charts as chartmod
from analysis.digest.charts import charts
from analysis.digest.mime import build_mime
from analysis.digest.render import WITHHELD
from analysis.digest.render_html import render_html_email, render_print_html
from analysis.digest.render_text import md, render_markdown, render_text
from tests.digest_sample import sample_digest

ROOT = Path(__file__).resolve().parent.parent
SENDER = "Chorus <digest@chorus.example>"
TO = ["board@riverside.example", "chair@riverside.example"]
EXPLAINED = "to protect the people who answered"


@pytest.fixture(scope="module")
def d() -> dict:
    # Through JSON, as an archived digest would be read back.
    return json.loads(json.dumps(sample_digest().to_dict()))


@pytest.fixture(scope="module")
def email_html(d):
    return render_html_email(d)


def flat(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def all_text(d: dict) -> dict[str, str]:
    """Every text format, by name."""
    pngs = charts(d)
    html, _ = render_html_email(d, pngs=pngs)
    return {"text": render_text(d), "markdown": render_markdown(d), "email": html,
            "print": render_print_html(d, pngs=pngs)}


@pytest.fixture(scope="module")
def outs(d) -> dict[str, str]:
    return all_text(d)


def walk_figures(x, path=()):
    if isinstance(x, dict):
        if "value" in x and set(x) <= {"value", "suppressed", "reason"}:
            yield path, x
            return
        for k, v in x.items():
            yield from walk_figures(v, path + (k,))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from walk_figures(v, path + (i,))


def visible_html(html: str) -> str:
    """The text a person sees with images off: tags dropped, alt texts kept, entities decoded."""
    html = re.sub(r"<img[^>]*\balt=\"([^\"]*)\"[^>]*>", r" \1 ", html)
    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    import html as h
    return re.sub(r"\s+", " ", h.unescape(text))


def png_chunks(png: bytes) -> list[str]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    i, out = 8, []
    while i < len(png):
        (n,) = struct.unpack(">I", png[i:i + 4])
        out.append(png[i + 4:i + 8].decode("ascii"))
        i += 12 + n
    return out


# ---- every format renders the sample ----------------------------------------------------------------------
def test_every_format_renders_the_sample(d, outs):
    for name, out in outs.items():
        out = flat(out)
        assert "Riverside Partnership" in out, name
        for org in ("Riverside Food Bank", "Northside Advice Centre", "Youth Drop-in", "Partnership total"):
            assert org in out, (name, org)
        assert "Response rate rose to 45%" in out, name
        assert "weekly check-in" in out.lower() and "youth voice" in out.lower(), name
        assert "16 to 22 November 2026" in out, name
        assert "not tagged: language" in out.lower(), name
    pngs = charts(d)
    assert set(pngs) == {"trend", "sentiment"}


def test_the_email_follows_the_issue_order(d, email_html):
    text = visible_html(email_html[0])
    marks = ["What changed this week", "The week in numbers", "Trend over 8 weeks", "Sentiment this week",
             "Survey: Weekly check-in", "Safeguarding", "By organisation", "About the numbers"]
    positions = [text.index(m) for m in marks]
    assert positions == sorted(positions)
    # the summary paragraph comes before any number table
    assert text.index("Response rate rose to 45%") < text.index("People invited")


def test_headline_numbers_with_change_from_last_week(outs):
    for name, out in outs.items():
        out = visible_html(out) if name in ("email", "print") else flat(out)
        for s in ("412", "187", "45%", "34%", "up 3.2 points on last week", "last week: 404", "last week: 170"):
            assert s in out, (name, s)


def test_scores_carry_n_and_confidence_interval(outs):
    for name, out in outs.items():
        out = visible_html(out) if name in ("email", "print") else flat(out)
        assert "Average 3.84" in out and "176 answers" in out and "3.69 to 3.99" in out, name
        assert "Net Promoter Score 24" in out and "170 answers" in out and "12 to 35" in out, name


def test_themes_mark_rising_falling_and_new(d):
    text = render_text(d)
    assert re.search(r"waiting times: 34 answers \(21 last week\) \[\u2191 rising\]", text)
    assert re.search(r"parking: fewer than 5 answers \(9 last week\) \[\u2193 falling\]", text)
    assert "fresh veg: 6 answers [new this week]" in text


# ---- small numbers --------------------------------------------------------------------------------------
def test_withheld_figures_read_fewer_than_5_and_never_a_number(d, outs):
    """Give every withheld figure a tell-tale value it should not carry: no format may print it."""
    bad = copy.deepcopy(d)
    n = 0
    for _, f in walk_figures(bad):
        if f.get("suppressed"):
            f["value"] = 4242.4242
            n += 1
    assert n >= 10          # the sample withholds plenty: an org row, a survey, a theme, the flags
    for name, out in all_text(bad).items():
        assert "4242" not in out and "4,242" not in out, name
        assert WITHHELD in out, name
    assert all_text(bad) == outs
    assert charts(bad) == charts(d)


def test_withheld_where_the_sample_withholds(d):
    text, markdown = render_text(d), render_markdown(d)
    assert "People who responded: fewer than 5" in text                 # the Youth voice survey
    assert "Open safeguarding flags (not yet closed by a person who read them): fewer than 5." in flat(text)
    assert "| Youth Drop-in | 12 | fewer than 5 | fewer than 5 | 18 |" in markdown
    assert "Fewer than 5 people answered this survey this week" in text


def test_fewer_than_5_is_explained_once(outs):
    for name, out in outs.items():
        assert out.count(EXPLAINED) == 1, name


def test_no_footnote_for_withheld_when_nothing_is_withheld(d):
    clean = copy.deepcopy(d)
    for _, f in walk_figures(clean):
        if f.get("suppressed"):
            f.clear()
            f["value"] = 7
    assert EXPLAINED not in render_text(clean)


def test_na_is_a_dash_not_zero(d):
    text, markdown = render_text(d), render_markdown(d)
    first = next(line for line in text.splitlines() if line.startswith("28 Sep"))
    assert first.split()[2:] == ["\u2013"] * 3 and "0" not in first
    assert "| 28 Sep | \u2013 | \u2013 | \u2013 |" in markdown
    html, _ = render_html_email(d)
    row = re.search(r"<tr><th[^>]*>28 Sep</th>(.*?)</tr>", html).group(1)
    assert row.count(">\u2013</td>") == 3 and "0%" not in row
    assert "A dash (\u2013) means there is nothing to report" in text


def test_chart_series_leave_gaps_not_zeros(d):
    gap = copy.deepcopy(d)
    gap["trend"][3]["response_rate"] = {"value": None, "suppressed": True, "reason": "small"}
    figs = chartmod.figures(gap)
    rate = list(figs["trend"].axes[0].lines[0].get_ydata())
    assert math.isnan(rate[0]) and math.isnan(rate[3])               # NA and withheld: gaps
    assert all(v > 0 for i, v in enumerate(rate) if i not in (0, 3))
    labels = [t.get_text() for t in figs["trend"].axes[0].texts]
    assert "no data" in labels and WITHHELD in labels

    bars = copy.deepcopy(d)
    bars["total"]["sentiment"]["mixed"] = {"value": None, "suppressed": True, "reason": "small"}
    ax = chartmod.figures(bars)["sentiment"].axes[0]
    assert len(ax.patches) == 4                                        # no bar, not a zero-length one
    assert WITHHELD in [t.get_text() for t in ax.texts]


def test_a_digest_with_nothing_to_chart_renders_without_images(d):
    empty = copy.deepcopy(d)
    empty["trend"] = []
    for k in empty["total"]["sentiment"]:
        empty["total"]["sentiment"][k] = {"value": None}
    assert charts(empty) == {}
    html, images = render_html_email(empty)
    assert images == {} and "<img" not in html and "cid:" not in html
    assert "No weeks to show." in render_text(empty)


# ---- escaping and redaction -----------------------------------------------------------------------------
HOSTILE = ('<script>alert("x")</script> & *bold* _it_ `code` [click](javascript:alert(1)) | pipe ~strike~ '
           '<b>b</b> [name] wrote [phone](javascript:x) from [postcode] at [email], see [link]')


def hostile(d: dict) -> dict:
    h = copy.deepcopy(d)
    h["surveys"][0]["quotes"][0]["text"] = HOSTILE
    h["organisations"][0]["name"] = "Food & Friends <Trust> | Ltd *1*"
    h["surveys"][0]["themes"][0]["label"] = "- waits <i>"
    h["summary"] = ["# Not a heading <img src=x onerror=alert(1)>"]
    h["partnership"] = 'Riverside "Partnership" <b>'
    return h


def test_html_escapes_user_text(d):
    h = hostile(d)
    for html in (render_html_email(h)[0], render_print_html(h)):
        assert "<script" not in html and "<img src=x" not in html and "<b>" not in html and "<i>" not in html
        assert escape(HOSTILE) in html
        assert "Food &amp; Friends &lt;Trust&gt; | Ltd *1*" in html
        assert "Riverside &quot;Partnership&quot; &lt;b&gt;" in html
        assert not re.search(r"(href|src)=\"\s*javascript", html, re.I)       # no live link from a quote


def test_markdown_escapes_user_text(d):
    markdown = render_markdown(hostile(d))
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert "\\[click\\](javascript" in markdown
    assert "Food \\& Friends \\<Trust\\> \\| Ltd \\*1\\*" in markdown
    assert "\n\\# Not a heading" in markdown
    assert md("- item", line_start=True) == "\\- item" and md("3. x", line_start=True) == "3\\. x"


def test_markdown_renders_safely_in_a_real_parser(d):
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(render_markdown(hostile(d)))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert 'href="javascript' not in html and "<h1>Not a heading" not in html
    assert "[phone]" in html and "[name]" in html and "[postcode]" in html
    row = re.search(r"<tr>\s*<td>Food &amp; Friends &lt;Trust&gt; \| Ltd \*1\*</td>(.*?)</tr>", html, re.S)
    assert row and row.group(1).count("<td") == 4        # the pipe did not split the row


def test_plain_text_keeps_user_text_but_drops_control_characters(d):
    h = hostile(d)
    h["surveys"][0]["quotes"][1]["text"] = "line one\nline two\x1b[31m red\x00"
    text = render_text(h)
    assert "<script>alert(\"x\")</script>" in text         # text/plain needs no escaping
    assert "\x1b" not in text and "\x00" not in text
    assert "line one line two [31m red" in text


def test_redaction_tokens_are_never_altered(d):
    quote = "the queue is too long on tuesdays, could you open earlier? call me on [phone]"
    tokens = "[name] said [email] or [postcode], [link]!"
    t = copy.deepcopy(d)
    t["surveys"][0]["quotes"][1]["text"] = tokens
    for name, out in all_text(t).items():
        out = flat(out)
        for token in ("[phone]", "[name]", "[email]", "[postcode]", "[link]"):
            assert token in out, (name, token)
        assert quote in out or escape(quote) in out, name
    assert tokens in flat(render_text(t)) and tokens in render_markdown(t)


def test_only_http_links_are_linked(d):
    bad = copy.deepcopy(d)
    bad["safeguarding"]["link"] = "javascript:alert(1)"
    for out in all_text(bad).values():
        assert "javascript:" not in out
    html, _ = render_html_email(d)
    assert 'href="https://chorus.example/console/flags"' in html


# ---- determinism ----------------------------------------------------------------------------------------
def test_byte_identical_on_two_renders(d, outs):
    html, images = render_html_email(d)                  # drawing its own charts, not the ones passed in
    assert (html, render_print_html(d), render_text(d), render_markdown(d)) == (
        outs["email"], outs["print"], outs["text"], outs["markdown"])
    assert images == render_html_email(copy.deepcopy(d))[1]
    assert charts(d) == charts(copy.deepcopy(d))
    kw = dict(sender=SENDER, recipients=TO)
    assert bytes(build_mime(d, **kw)) == bytes(build_mime(copy.deepcopy(d), **kw))


def _fingerprint(d: dict) -> str:
    h = hashlib.sha256()
    for out in all_text(d).values():
        h.update(out.encode())
    for name, png in sorted(charts(d).items()):
        h.update(name.encode() + png)
    h.update(bytes(build_mime(d, sender=SENDER, recipients=TO)))
    return h.hexdigest()


def test_byte_identical_in_another_process(d):
    """Another interpreter, another hash seed, another matplotlib config dir: the same bytes."""
    code = ("import json,sys; from tests.test_digest_render import _fingerprint; "
            "print(_fingerprint(json.loads(sys.stdin.read())))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(d), capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == _fingerprint(d)


def test_pngs_carry_no_metadata(d):
    for name, png in charts(d).items():
        assert set(png_chunks(png)) <= {"IHDR", "IDAT", "IEND", "pHYs"}, name
        assert b"matplotlib" not in png.lower() and b"tIME" not in png


def test_pngs_have_the_fixed_size(d):
    from PIL import Image

    sizes = {name: Image.open(io.BytesIO(png)).size for name, png in charts(d).items()}
    assert sizes == {"trend": chartmod.TREND_PX, "sentiment": chartmod.SENTIMENT_PX}


# ---- images off -----------------------------------------------------------------------------------------
def test_email_reads_with_images_off(d, email_html):
    html, images = email_html
    alts = dict(re.findall(r'<img src="cid:([^"]+)" alt="([^"]+)"', html))
    assert set(alts) == set(images)
    trend = next(a for c, a in alts.items() if c.startswith("trend"))
    for s in ("28 Sep no data", "5 Oct 41%", "19 Oct 44%", "16 Nov 45%", "Positive share", "Negative share"):
        assert s in trend, s
    sentiment = next(a for c, a in alts.items() if c.startswith("sentiment"))
    for s in ("181 written answers", "positive 71", "neutral 40", "negative 52", "mixed 12",
              "not tagged: language 6"):
        assert s in sentiment, s
    # with the images gone entirely, the key numbers are still in the text and tables
    no_images = visible_html(re.sub(r"<img[^>]*>", "", html))
    for s in ("412", "187", "45%", "34%", "Positive 71", "Negative 52", "Not tagged: language 6", "16 Nov 45%"):
        assert s in no_images, s


def test_email_is_built_for_a_phone(email_html):
    html, _ = email_html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width:600px" in html and "<style" not in html            # inline CSS only
    for img in re.findall(r"<img[^>]*>", html):
        assert "width:100%" in img and "height:auto" in img


# ---- print ----------------------------------------------------------------------------------------------
def test_print_page_stands_alone(d):
    page = render_print_html(d)
    assert "size: A4" in page and "@page" in page
    assert "cid:" not in page and not re.search(r'src="(?!data:)', page)
    embedded = [base64.b64decode(s) for s in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]
    assert sorted(embedded) == sorted(charts(d).values())


# ---- MIME -----------------------------------------------------------------------------------------------
def test_mime_structure(d):
    msg = build_mime(d, sender=SENDER, recipients=TO)
    parsed = email.message_from_bytes(bytes(msg), policy=policy.default)
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png", "image/png"]
    assert parsed["From"] == SENDER and parsed["To"] == ", ".join(TO)
    assert "Riverside Partnership" in parsed["Subject"] and "16 to 22 November 2026" in parsed["Subject"]
    assert parsed["Date"] is None and parsed["Message-ID"] is None

    plain, related = parsed.get_payload()
    assert plain.get_content().replace("\r\n", "\n") == render_text(d)
    assert related.get_param("type") == "text/html"
    html_part, *images = related.get_payload()
    html = html_part.get_content().replace("\r\n", "\n")
    expected_html, expected_images = render_html_email(d)
    assert html == expected_html

    by_cid = {p["Content-ID"].strip("<>"): p for p in images}
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    assert referenced == set(by_cid) == set(expected_images)
    for cid, part in by_cid.items():
        assert part.get_content_disposition() == "inline"
        assert part.get_filename().endswith(".png")
        assert part.get_content() == expected_images[cid]


def test_mime_subject_and_recipients(d):
    msg = build_mime(d, sender=SENDER, recipients=["one@example.org"], subject="Board pack: user voice")
    assert msg["Subject"] == "Board pack: user voice" and msg["To"] == "one@example.org"
    with pytest.raises(ValueError):
        build_mime(d, sender=SENDER, recipients=[])


# ---- one organisation -----------------------------------------------------------------------------------
def test_an_organisation_digest_names_the_organisation(d):
    one = copy.deepcopy(d)
    one["organisation"] = "food"
    assert "For Riverside Food Bank" in render_text(one)
    assert "Riverside Food Bank" in build_mime(one, sender=SENDER, recipients=TO)["Subject"]


# ---- the schema document --------------------------------------------------------------------------------
def test_the_schema_document_names_every_field(d):
    doc = (ROOT / "docs" / "digest-schema.md").read_text(encoding="utf-8")
    assert d["schema"] in doc and "chorus.digest/2" in doc          # the version and the versioning rule

    def keys(x):
        if isinstance(x, dict):
            for k, v in x.items():
                yield k
                yield from keys(v)
        elif isinstance(x, list):
            for v in x:
                yield from keys(v)

    missing = sorted({k for k in keys(d) if f"`{k}`" not in doc})
    assert not missing, f"docs/digest-schema.md does not describe {missing}"


def test_the_api_is_importable_from_render(d, outs):
    from analysis.digest import render

    assert render.render_text(d) == outs["text"] and render.render_markdown(d) == outs["markdown"]
    assert render.render_print_html(d) == outs["print"] and render.render_html_email(d)[0] == outs["email"]
    assert render.charts is charts and render.build_mime is build_mime
    with pytest.raises(AttributeError):
        render.no_such_renderer
