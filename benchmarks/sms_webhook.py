"""SMS webhook throughput: Chorus under gunicorn (2 workers) against a minimal signed-insert Flask app.

For each backend (SQLite, PostgreSQL) and each of three rounds, both apps are started under gunicorn with
2 sync workers, and this process sends a fixed count of signed inbound webhooks over keep-alive
connections from a few threads. Chorus's traffic is real conversations (JOIN, consent, answers, a HELP);
the minimal app gets the same requests. Prints requests/s, p50/p99 latency and errors for each, and the
median ratio Chorus / minimal over the rounds. Target: at least 0.5x, zero errors.

    python benchmarks/sms_webhook.py [--requests 3000] [--rounds 3] [--backend sqlite|postgres|both]
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from benchmarks.common import machine  # noqa: E402
from benchmarks.minimal_sms_app import SCHEMA  # noqa: E402
from config.migrate import upgrade  # noqa: E402
from config.settings import load_settings  # noqa: E402
from surveys import admin  # noqa: E402
from surveys.loader import load_survey_file  # noqa: E402
from surveys.store import Store, make_sql_engine  # noqa: E402

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "bench-twilio-auth-token"
ACCOUNT = "AC" + "b" * 32
SCRIPT = ["JOIN bench", "yes", "no", "7", "Shorter queues would help", "2", "yes", "HELP", "thanks"]
THREADS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests_for(count: int, run_id: str) -> list[dict]:
    """`count` inbound webhooks: participants' conversations interleaved, as real traffic arrives."""
    people = max(1, count // len(SCRIPT) + 1)
    out = []
    for step, body in enumerate(SCRIPT):
        for p in range(people):
            out.append({"MessageSid": f"SM{run_id}{step:02d}{p:06d}", "AccountSid": ACCOUNT,
                        "From": f"+4477009{p:05d}", "To": "+447700900000", "Body": body, "NumMedia": "0"})
    return out[:count]


def blast(port: int, payloads: list[dict]) -> tuple[float, list[float], int]:
    """Send every payload (split over THREADS keep-alive connections); return elapsed, latencies, errors."""
    url = f"http://127.0.0.1:{port}/sms/inbound"
    validator = RequestValidator(TOKEN)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    # A participant's messages must arrive in order: give each thread whole participants.
    shards: list[list[dict]] = [[] for _ in range(THREADS)]
    for p in payloads:
        shards[hash(p["From"]) % THREADS].append(p)

    def worker(shard):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for params in shard:
            body = urlencode(params)
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": validator.compute_signature(url, params)}
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/sms/inbound", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(s,)) for s in shards]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, latencies, errors[0]


def serve(app: str, env: dict, port: int) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen([gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
                            cwd=ROOT, env=env, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def prepare(url: str, var: str) -> None:
    settings = load_settings(env={"CHORUS_VAR_DIR": var, "CHORUS_SECRET_KEY": "bench-secret-key-0123456789",
                                  "DATABASE_URL": url}, dotenv=False)
    store = Store(settings, sql_engine=make_sql_engine(settings.database_url))
    upgrade(store.sql_engine)
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    admin.load_survey(store, load_survey_file(ROOT / "surveys" / "examples" / "service.yaml"), now)
    admin.add_organisation(store, "Bench Org", "bench", now, welcome_survey="service-experience")
    with store.sql_engine.begin() as conn:
        pk = "INTEGER PRIMARY KEY" if store.dialect == "sqlite" else "SERIAL PRIMARY KEY"
        conn.execute(text(SCHEMA.format(pk=pk)))
    store.sql_engine.dispose()


def figures(name: str, elapsed: float, latencies: list[float], errors: int) -> float:
    latencies.sort()
    rate = len(latencies) / elapsed
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    print(f"  {name:8} {len(latencies):6d} requests  {rate:7.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:7.2f} ms  "
          f"errors {errors}", flush=True)
    return rate


def run_backend(backend: str, count: int, rounds: int) -> list[float]:
    ratios = []
    for r in range(rounds):
        var = tempfile.mkdtemp(prefix="chorus-bench-")
        schema = None
        if backend == "sqlite":
            url = f"sqlite:///{var}/bench.db"
        else:
            schema = f"chorus_bench_{uuid.uuid4().hex[:8]}"
            admin_engine = make_sql_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
            with admin_engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            admin_engine.dispose()
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        try:
            prepare(url, var)
            env = {**os.environ, "DATABASE_URL": url, "CHORUS_VAR_DIR": var, "CHORUS_SECRET_KEY": "bench-secret-key-0123456789",
                   "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": "+447700900000",
                   "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
            env.pop("PUBLIC_BASE_URL", None)
            print(f"{backend}, round {r + 1}:", flush=True)
            results = {}
            for name, app in (("chorus", "config.app:create_app()"), ("minimal", "benchmarks.minimal_sms_app:create_app()")):
                port = free_port()
                proc = serve(app, env, port)
                try:
                    blast(port, requests_for(min(200, count), f"w{name[0]}{r}"))  # warm up both workers
                    results[name] = figures(name, *blast(port, requests_for(count, f"{name[0]}{r}")))
                finally:
                    stop(proc)
            ratios.append(results["chorus"] / results["minimal"])
            print(f"  ratio    {ratios[-1]:.2f}", flush=True)
        finally:
            if schema:
                admin_engine = make_sql_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
                with admin_engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin_engine.dispose()
            shutil.rmtree(var, ignore_errors=True)
    print(f"{backend}: median ratio chorus/minimal over {rounds} rounds: {statistics.median(ratios):.2f}", flush=True)
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"gunicorn 2 sync workers per app, {THREADS} client threads, {args.requests} signed webhooks per run")
    for backend in ("sqlite", "postgres"):
        if args.backend in (backend, "both"):
            run_backend(backend, args.requests, args.rounds)


if __name__ == "__main__":
    main()
