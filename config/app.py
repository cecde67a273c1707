"""The Flask app factory (the Procfile's `web:` process runs it under gunicorn)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from flask import Flask, jsonify
from sqlalchemy import text

from config.logs import configure_logging
from config.settings import Settings, load_settings
from config.wiring import make_store
from surveys.store import Store


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def create_app(settings: Settings | None = None, store: Store | None = None,
               clock: Callable[[], datetime] = _utcnow) -> Flask:
    """Build the web app. Channels mount only when configured: without Twilio credentials there is no
    /sms route, without TELEGRAM_WEBHOOK_URL no /telegram route, and nothing fails. Tests pass their own
    settings, store and clock."""
    if settings is None and store is None:
        # A process start (gunicorn, `flask run`): a bad setting or a database that is not reachable or not
        # set up is one line and an exit, not a traceback on the first request.
        from config.startup import ready_store_or_exit

        store = ready_store_or_exit()
        settings = store.settings
    configure_logging()
    settings = settings or load_settings()
    store = store or make_store(settings)
    app = Flask("chorus")
    if settings.trusted_proxies:
        # Behind a proxy every request comes from the proxy: read the client's address (sign-in throttling per
        # address, the audit log) and scheme from the headers the trusted proxies add, and from no one else.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.extensions["chorus"] = {"settings": settings, "store": store}

    @app.get("/healthz")
    def healthz():
        with store.read() as conn:
            conn.execute(text("SELECT 1"))
        telegram = ("webhook" if settings.telegram_webhook_url else "polling") if settings.telegram_enabled else False
        return jsonify(ok=True, database=store.dialect, sms=settings.sms_enabled, telegram=telegram)

    from config.digest_web import make_blueprint as digest_blueprint

    app.register_blueprint(digest_blueprint(store))
    from console import make_blueprint as console_blueprint

    # The staff console: / and /console/... (CSRF and its security headers apply to its routes only).
    from functools import cache

    from config.wiring import send_estimates, simulator_screens, survey_checks

    app.register_blueprint(console_blueprint(store, settings, clock, survey_checks=cache(lambda: survey_checks(settings)),
                                             send_estimates=send_estimates(settings), screens=simulator_screens()))
    if settings.sms_enabled:
        from sms.inbound import make_blueprint

        app.register_blueprint(make_blueprint(store, settings.twilio_auth_token, settings.public_base_url, clock))
    if settings.telegram_enabled:
        from bot.channel import TelegramChannel

        # No network here: the channel connects on its first call.
        channel = TelegramChannel.from_settings(settings)
        app.extensions["chorus"]["telegram"] = channel
        if settings.telegram_webhook_url:
            # Webhook mode: Telegram posts updates here (`chorus bot` registers the URL and secret).
            from bot.webhook import make_blueprint as telegram_blueprint

            app.register_blueprint(telegram_blueprint(store, channel, settings.webhook_secret(), clock))
    return app
