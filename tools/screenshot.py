"""Render an HTML file to PNG with headless Chromium (the digest's picture in the README, and a check that the
printable digest renders at all).

    render_png(Path("digest.html"), Path("digest.png"), width=800)
    python -m tools.screenshot digest.html digest.png [--width 800] [--height 2400]

The browser is found from the CHROMIUM environment variable (a name on PATH or a path), else `chromium`,
`chromium-browser` or `google-chrome` on PATH; on Debian, `apt-get install chromium`.

The page cannot reach the network: every host name *and* IP literal (loopback included) is mapped to "not
found" by `--host-resolver-rules`, so http(s), WebSocket and fetch requests fail at once instead of waiting
for a timeout, and WebRTC may not open UDP of its own. Only `file://` and `data:` resources load, which is all
the digest uses (its charts are inline images). Each run gets a fresh profile directory, removed afterwards.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
DEFAULT_HEIGHT = 2400  # when the page cannot be measured
MAX_HEIGHT = 16384  # Chromium's largest screenshot side
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The flags the digest issue asks for: no sandbox (we run as root in containers), no GPU, and no first-run,
# background, component-update or sync traffic.
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# No network from the page: see the module docstring. (Disabling JavaScript would be stricter, but then
# headless Chromium's --screenshot writes nothing, so it is not an option.)
OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)


class ScreenshotError(RuntimeError):
    """Chromium is missing, failed, timed out, or wrote no valid PNG."""


def find_chromium(env: dict | None = None) -> str:
    """The path of the browser to run, or ScreenshotError saying what to install."""
    env = os.environ if env is None else env
    wanted = env.get("CHROMIUM", "").strip()
    if wanted:
        found = shutil.which(wanted)
        if not found:
            raise ScreenshotError(f"CHROMIUM={wanted!r} is not an executable on PATH or a path to one")
        return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ScreenshotError(
        "no headless browser found (looked for " + ", ".join(CANDIDATES) + " on PATH): install Debian's "
        "chromium package (`apt-get install -y --no-install-recommends chromium`) or set CHROMIUM to a browser"
    )


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ScreenshotError when the file is not a PNG."""
    try:
        head = Path(path).read_bytes()[:24]
    except OSError as exc:
        raise ScreenshotError(f"cannot read {path}: {exc}") from exc
    # signature (8) + chunk length (4) + b"IHDR" (4) + width (4) + height (4)
    if len(head) < 24 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise ScreenshotError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", head[16:24])
    if width == 0 or height == 0:
        raise ScreenshotError(f"{path} is an empty PNG ({width}x{height})")
    return width, height


def _tail(stderr: bytes, limit: int = 2000) -> str:
    """The end of Chromium's stderr without the D-Bus complaints it prints in every container."""
    lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines()
             if ln.strip() and "dbus" not in ln.lower() and "unexpected operator" not in ln]
    text = "\n".join(lines)
    return text[-limit:] if text else "(no output)"


def chromium_command(browser: str, url: str, profile: Path, width: int, height: int, *action: str) -> list[str]:
    return [
        browser, *BASE_FLAGS, *OFFLINE_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",  # one CSS pixel = one image pixel, whatever the host says
        "--hide-scrollbars",
        *action,
        url,
    ]


def render_png(html_path: Path, png_path: Path, *, width: int = 800, height: int | None = None,
               timeout: float = 60) -> Path:
    """Render `html_path` in a `width` x `height` window and write the screenshot to `png_path`.

    With `height=None` the page is measured first (a second, short Chromium run) and the whole page is
    captured, up to MAX_HEIGHT; if it cannot be measured (a Content-Security-Policy forbidding inline
    scripts, say), DEFAULT_HEIGHT is used. `timeout` covers both runs. Returns `png_path` once it holds a
    valid PNG; raises ScreenshotError otherwise (browser missing, page not loadable, timeout: the browser's
    whole process group is killed)."""
    html_path, png_path = Path(html_path).resolve(), Path(png_path)
    if width <= 0 or (height is not None and height <= 0):
        raise ScreenshotError(f"window size must be positive, got {width}x{height}")
    if not html_path.is_file():
        raise ScreenshotError(f"no such HTML file: {html_path}")
    browser = find_chromium()
    deadline = time.monotonic() + timeout

    with tempfile.TemporaryDirectory(prefix="chorus-chromium-") as tmp:
        tmp = Path(tmp)
        if height is None:
            measured = _measure_height(browser, html_path, tmp, width, deadline, timeout)
            height = min(measured, MAX_HEIGHT) if measured else DEFAULT_HEIGHT
        shot = tmp / "shot.png"
        cmd = chromium_command(browser, html_path.as_uri(), tmp / "profile", width, height, f"--screenshot={shot}")
        _, err, returncode = _run(cmd, tmp, deadline, timeout, html_path.name)
        if not shot.exists():
            raise ScreenshotError(f"chromium (exit {returncode}) wrote no screenshot of {html_path.name}; "
                                  f"its stderr ends:\n{_tail(err)}")
        png_size(shot)
        png_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(shot), png_path)
    return png_path


# Run after the page (and its images) have loaded; --dump-dom then prints the attribute with the DOM.
_MEASURE_SCRIPT = (
    '<script>addEventListener("load", function () { var e = document.documentElement, b = document.body;'
    ' e.setAttribute("data-chorus-height", Math.ceil(Math.max(e.scrollHeight, b ? b.scrollHeight : 0,'
    ' e.getBoundingClientRect().height))); });</script>'
)


def _measure_height(browser: str, html_path: Path, tmp: Path, width: int, deadline: float,
                    timeout: float) -> int | None:
    """The page's full height at `width`, from a copy that reports it (relative links still resolve
    against the original's folder, through a <base>); None when the page would not say."""
    source = html_path.read_text(encoding="utf-8", errors="replace")
    base = f'<base href="{html_path.parent.as_uri()}/">'
    # The <base> goes inside <head> (or after the doctype): anything before the doctype would switch the
    # page to quirks mode and change its layout, and so its height.
    head = re.search(r"<head(\s[^>]*)?>", source, re.IGNORECASE) or re.search(r"<!doctype[^>]*>", source, re.IGNORECASE)
    at = head.end() if head else 0
    copy = tmp / "measure.html"
    copy.write_text(source[:at] + base + source[at:] + _MEASURE_SCRIPT, encoding="utf-8")
    cmd = chromium_command(browser, copy.as_uri(), tmp / "profile-measure", width, 600, "--dump-dom")
    out, _, _ = _run(cmd, tmp, deadline, timeout, html_path.name)
    found = re.search(rb'data-chorus-height="(\d+)"', out)
    return max(int(found.group(1)), 1) if found else None


def _run(cmd: list[str], tmp: Path, deadline: float, timeout: float, name: str) -> tuple[bytes, bytes, int]:
    # Keep every file Chromium writes (profile, caches, crash reports) inside the throwaway directory.
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "config"), "XDG_CACHE_HOME": str(tmp / "cache")}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, start_new_session=True)  # its own process group, so we can kill it all
    try:
        out, err = proc.communicate(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        _, err = proc.communicate()
        raise ScreenshotError(f"chromium did not finish rendering {name} within {timeout:g} s; "
                              f"its stderr ends:\n{_tail(err)}") from None
    if "Page load failed" in err.decode("utf-8", "replace"):
        raise ScreenshotError(f"chromium could not load {name}:\n{_tail(err)}")
    return out, err, proc.returncode


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the browser and its helpers (zygote, renderer, crashpad), which share its process group."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshot",
                                     description="Render an HTML file to PNG with headless Chromium (offline).")
    parser.add_argument("html", type=Path, help="the HTML file to render")
    parser.add_argument("png", type=Path, help="where to write the PNG")
    parser.add_argument("--width", type=int, default=800, help="window width in pixels (default 800)")
    parser.add_argument("--height", type=int, default=None, help="window height in pixels (default: the whole page)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before giving up (default 60)")
    args = parser.parse_args(argv)
    try:
        out = render_png(args.html, args.png, width=args.width, height=args.height, timeout=args.timeout)
    except ScreenshotError as exc:
        print(f"screenshot: {exc}", file=sys.stderr)
        return 1
    w, h = png_size(out)
    print(f"{out} ({w}x{h})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
