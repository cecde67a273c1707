"""Headless Chromium renders our HTML to PNG, offline, in seconds (issue 7: "a test checks the render completes").

Without a browser these tests skip with the reason, except under CI=true, where they fail: .ci/run installs
Debian's chromium when it is missing.
"""
from __future__ import annotations

import base64
import http.server
import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tools.screenshot import DEFAULT_HEIGHT, ScreenshotError, find_chromium, png_size, render_png

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parents[1]
BUDGET = 10.0  # seconds per render (one Chromium run, two when the page is measured first)

# A 2x2 red PNG, small enough to inline.
RED_PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001049444154789c63f8cfc000440c100a001fee03fd8b5f14d40000000049454e44ae426082"
)).decode()


@pytest.fixture
def chromium():
    try:
        return find_chromium()
    except ScreenshotError as exc:
        if IN_CI:
            pytest.fail(f"{exc} (under CI=true the render test must run)", pytrace=False)
        pytest.skip(str(exc))


def page(body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test page</title>
<style>
  body {{ font-family: sans-serif; margin: 24px; color: #1a1a1a; background: #fff; }}
  h1 {{ color: #0b4f6c; font-size: 28px; }}
  table {{ border-collapse: collapse; }}
  td, th {{ border: 1px solid #999; padding: 4px 8px; }}
  img {{ width: 40px; height: 40px; image-rendering: pixelated; }}
</style></head>
<body>{body}</body></html>
"""


SIMPLE = page(f"""
<h1>Weekly digest</h1>
<table><tr><th>Organisation</th><th>Responses</th></tr>
<tr><td>Riverside Food Bank</td><td>101</td></tr><tr><td>Youth Drop-in</td><td>fewer than 5</td></tr></table>
<p><img alt="red square" src="data:image/png;base64,{RED_PNG}"></p>
""")


def timed_render(html: Path, png: Path, **kw) -> tuple[Path, float]:
    start = time.monotonic()
    out = render_png(html, png, **kw)
    return out, time.monotonic() - start


def test_renders_a_self_contained_page(chromium, tmp_path):
    html = tmp_path / "page.html"
    html.write_text(SIMPLE, encoding="utf-8")
    out, took = timed_render(html, tmp_path / "out" / "page.png", width=640, height=480)
    assert out == tmp_path / "out" / "page.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png_size(out) == (640, 480)
    assert took < BUDGET, f"render took {took:.1f} s"
    # a plain white page compresses to a few hundred bytes; heading, table and image make it bigger
    assert out.stat().st_size > 2000


def test_without_a_height_the_whole_page_is_captured(chromium, tmp_path):
    # The page is measured in a copy; a relative stylesheet must still apply there, or the height is wrong.
    (tmp_path / "style.css").write_text(".tall { height: 1500px; background: #cde; }", encoding="utf-8")
    html = tmp_path / "tall.html"
    html.write_text('<!doctype html><html><head><link rel="stylesheet" href="style.css"></head>'
                    '<body style="margin:0"><div class="tall"></div><div style="height:234px"></div></body></html>',
                    encoding="utf-8")
    out = render_png(html, tmp_path / "tall.png", width=300)
    assert png_size(out) == (300, 1734)


def test_a_page_that_forbids_scripts_gets_the_default_height(chromium, tmp_path):
    html = tmp_path / "csp.html"
    html.write_text(SIMPLE.replace("<head>", """<head><meta http-equiv="Content-Security-Policy" content="script-src 'none'">"""),
                    encoding="utf-8")
    out = render_png(html, tmp_path / "csp.png", width=300)
    assert png_size(out) == (300, DEFAULT_HEIGHT)


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.seen.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    """A local HTTP server that records every request; the renderer must send it none."""
    handler = type("Recorder", (_Recorder,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler.seen
    server.shutdown()
    server.server_close()


def test_external_references_do_not_load_and_do_not_slow_the_render(chromium, tmp_path, recorder):
    port, seen = recorder
    # Chromium is its own process, so conftest's socket guard does not cover it: the renderer must block
    # everything itself. A server on loopback is the one thing the test can watch, and even it gets nothing,
    # whether named by IP, by name, or from a script; the external addresses fail as fast.
    html = tmp_path / "external.html"
    html.write_text(page(f"""
<h1>External references</h1>
<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
<img src="https://example.com/logo.png"><img src="http://192.0.2.1/unroutable.png">
<img src="http://[2001:db8::1]/v6.png">
<img src="http://127.0.0.1:{port}/by-ip.png"><img src="http://localhost:{port}/by-name.png">
<script>fetch("http://127.0.0.1:{port}/fetch").catch(() => {{}});
try {{ new WebSocket("ws://127.0.0.1:{port}/socket"); }} catch (e) {{}}</script>
<table><tr><td>still renders</td></tr></table>
"""), encoding="utf-8")
    out, took = timed_render(html, tmp_path / "external.png", width=800, height=600)
    assert png_size(out) == (800, 600)
    assert took < BUDGET, f"render took {took:.1f} s: something waited on the network"
    time.sleep(0.2)  # let a late request, if any, arrive
    assert seen == [], f"the page reached the network: {seen}"


def test_missing_html_and_missing_browser_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ScreenshotError, match="no such HTML file"):
        render_png(tmp_path / "nope.html", tmp_path / "nope.png")
    monkeypatch.setenv("CHROMIUM", "no-such-browser-here")
    html = tmp_path / "page.html"
    html.write_text(SIMPLE, encoding="utf-8")
    with pytest.raises(ScreenshotError, match="CHROMIUM='no-such-browser-here'"):
        render_png(html, tmp_path / "page.png")
    monkeypatch.delenv("CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ScreenshotError, match="apt-get install -y --no-install-recommends chromium"):
        find_chromium()


def test_a_browser_that_hangs_is_killed_at_the_timeout(tmp_path, monkeypatch):
    # A stand-in browser that starts a child and then sleeps: the timeout must kill the whole process group.
    fake = tmp_path / "hanging-browser"
    pidfile = tmp_path / "child.pid"
    fake.write_text(f"#!/bin/sh\n'{sys.executable}' -c 'import time; time.sleep(60)' &\n"
                    f"echo $! > '{pidfile}'\necho 'stuck on purpose' >&2\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    html = tmp_path / "page.html"
    html.write_text(SIMPLE, encoding="utf-8")
    start = time.monotonic()
    with pytest.raises(ScreenshotError, match=r"(?s)within 1 s.*stuck on purpose"):
        render_png(html, tmp_path / "page.png", timeout=1)
    assert time.monotonic() - start < 5
    child = int(pidfile.read_text())
    for _ in range(50):  # the child is gone (or a zombie awaiting its reaper)
        try:
            state = Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            break
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"child {child} of the hanging browser survived the timeout")
    assert not (tmp_path / "page.png").exists()


def test_cli_writes_the_png(chromium, tmp_path):
    html = tmp_path / "page.html"
    html.write_text(SIMPLE, encoding="utf-8")
    out = tmp_path / "cli.png"
    result = subprocess.run([sys.executable, "-m", "tools.screenshot", str(html), str(out), "--width", "500",
                             "--height", "300"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "(500x300)" in result.stdout
    assert png_size(out) == (500, 300)


def _print_renderer():
    """render_print_html from the digest renderer, or None while it is still being written."""
    for name in ("analysis.digest.render_html", "analysis.digest.render"):
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            module = importlib.import_module(name)
            if hasattr(module, "render_print_html"):
                return module.render_print_html
    return None


def test_the_sample_digest_renders(chromium, tmp_path):
    render_print_html = _print_renderer()
    if render_print_html is None:
        pytest.skip("analysis.digest has no render_print_html yet (the printable digest renderer)")
    if not (Path(__file__).parent / "digest_sample.py").exists():
        pytest.skip("tests/digest_sample.py is missing")
    from tests.digest_sample import sample_digest

    html = tmp_path / "digest.html"
    html.write_text(render_print_html(sample_digest().to_dict()), encoding="utf-8")
    out, took = timed_render(html, tmp_path / "digest.png", width=800)
    width, height = png_size(out)
    assert width == 800 and height > 1000  # the whole digest, measured
    assert took < BUDGET, f"digest render took {took:.1f} s"
