"""The baseline for benchmarks/sms_webhook.py: a Flask app that only checks Twilio's signature and inserts
one row. Whatever Chorus does beyond this is the cost of being Chorus.

    DATABASE_URL=... TWILIO_AUTH_TOKEN=... gunicorn -w 2 'benchmarks.minimal_sms_app:create_app()'
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from config.settings import normalise_database_url
from surveys.store import make_sql_engine


def create_app() -> Flask:
    sql_engine = make_sql_engine(normalise_database_url(os.environ["DATABASE_URL"]))
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    sqlite = sql_engine.dialect.name == "sqlite"
    sql = "INSERT INTO bench_inbound (sid, sender, body, at) VALUES (:sid, :sender, :body, :at)" if sqlite else \
        "INSERT INTO bench_inbound (sid, sender, body, at) VALUES (%(sid)s, %(sender)s, %(body)s, %(at)s)"
    app = Flask("minimal")

    @app.post("/sms/inbound")
    def inbound():
        if not validator.validate(request.url, request.form, request.headers.get("X-Twilio-Signature", "")):
            return Response("invalid signature", status=403)
        with sql_engine.connect().execution_options(chorus_write=True) as conn:
            with conn.begin():
                cur = conn.connection.dbapi_connection.cursor()
                cur.execute(sql, {"sid": request.form["MessageSid"], "sender": request.form["From"],
                                  "body": request.form.get("Body", ""), "at": datetime.now(timezone.utc).isoformat()})
                cur.close()
        return Response('<?xml version="1.0" encoding="UTF-8"?><Response />', mimetype="application/xml")

    return app


SCHEMA = "CREATE TABLE bench_inbound (id {pk}, sid VARCHAR(64) UNIQUE NOT NULL, sender VARCHAR(32), body TEXT, at VARCHAR(40))"
