"""Signed-in console pages under gunicorn with 2 sync workers: requests/s and latency.

For each backend (SQLite, PostgreSQL): migrate a fresh database, load the demo data (`chorus demo`: three
organisations, eight weeks of answers), add an admin, start `config.app:create_app()` under gunicorn with 2
workers, sign in over HTTP from each client thread (the real sign-in form, CSRF token included), then send a
fixed count of GETs of each page over keep-alive connections. Every response must be 200 with the page's
heading; anything else counts as an error.

    python benchmarks/console_pages.py [--requests 1000] [--backend sqlite|postgres|both] [--path /console/ ...]
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, postgres_schema  # noqa: E402
from benchmarks.sms_webhook import free_port, serve, stop  # noqa: E402
from config.migrate import upgrade  # noqa: E402
from config.settings import load_settings  # noqa: E402
from surveys import accounts, admin  # noqa: E402
from surveys.loader import load_survey_file  # noqa: E402
from surveys.scope import Scope  # noqa: E402
from surveys.store import Store, make_sql_engine  # noqa: E402

THREADS = 4
PASSWORD = "correct horse battery staple"
SECRET = "bench-secret-key-0123456789"
PAGES = ("/console/", "/console/dashboard")


def prepare(url: str, var: str) -> None:
    from demo.seed import seed_demo

    settings = load_settings(env={"CHORUS_VAR_DIR": var, "CHORUS_SECRET_KEY": SECRET, "DATABASE_URL": url},
                             dotenv=False)
    store = Store(settings, sql_engine=make_sql_engine(settings.database_url))
    upgrade(store.sql_engine)
    now = datetime.now(timezone.utc)
    for name in ("weekly.yaml", "service.yaml"):
        admin.load_survey(store, load_survey_file(ROOT / "surveys" / "examples" / name), now)
    seed_demo(store, now)
    made = accounts.add_user(store, Scope.operator(), "bench", "Bench Admin", "admin", [], now)
    accounts.change_password(store, made.account.id, made.password, PASSWORD, now)
    store.sql_engine.dispose()


def sign_in(port: int) -> str:
    """The session cookie of a fresh sign-in through the form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/console/sign-in")
    response = conn.getresponse()
    page = response.read().decode()
    csrf_cookie = "; ".join(v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    conn.request("POST", "/console/sign-in", body=urlencode({"csrf_token": token, "username": "bench",
                                                             "password": PASSWORD}),
                 headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": csrf_cookie})
    response = conn.getresponse()
    response.read()
    cookies = [v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie"]
    session = [c for c in cookies if "chorus_session=" in c]
    if response.status != 302 or not session:
        raise RuntimeError(f"sign-in failed: HTTP {response.status}")
    conn.close()
    return "; ".join(session)


def blast(port: int, path: str, count: int, cookies: list[str]) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(cookie: str, n: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for _ in range(n):
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200 and b"<h1" in body
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(cookies[i], count // THREADS)) for i in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, latencies, errors[0]


def report(path: str, elapsed: float, latencies: list[float], errors: int) -> None:
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000
    print(f"  {path:22} {len(latencies):6d} requests  {len(latencies) / elapsed:7.0f} req/s  p50 {p50:7.1f} ms  "
          f"p95 {p95:7.1f} ms  errors {errors}", flush=True)


def run_backend(backend: str, count: int, paths: list[str]) -> None:
    var = tempfile.mkdtemp(prefix="chorus-bench-")
    where = nullcontext(f"sqlite:///{var}/bench.db") if backend == "sqlite" else postgres_schema()
    try:
        with where as url:
            prepare(url, var)
            env = {**os.environ, "DATABASE_URL": url, "CHORUS_VAR_DIR": var, "CHORUS_SECRET_KEY": SECRET,
                   "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
            for name in ("PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID", "TELEGRAM_BOT_TOKEN", "SMTP_HOST"):
                env.pop(name, None)
            port = free_port()
            proc = serve("config.app:create_app()", env, port)
            try:
                cookies = [sign_in(port) for _ in range(THREADS)]
                print(f"{backend}: signed-in pages, {THREADS} client threads, gunicorn -w 2", flush=True)
                for path in paths:
                    blast(port, path, min(100, count), cookies)   # warm up both workers
                    report(path, *blast(port, path, count, cookies))
            finally:
                stop(proc)
    finally:
        shutil.rmtree(var, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--path", action="append", help=f"page to request (default: {', '.join(PAGES)})")
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        try:
            run_backend(backend, args.requests, args.path or list(PAGES))
        except OSError as exc:
            print(f"{backend}: skipped ({exc})", flush=True)


if __name__ == "__main__":
    main()
