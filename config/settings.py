"""Settings from the environment (and an optional `.env` file), typed and validated at start.

Defaults just work on a fresh clone: SQLite under `var/`, the local chat channel, a per-install
secret generated on first use. Bad values stop the process with the variable's name and the reason.
"""
from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A configuration variable has a value Chorus cannot use."""


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_log_level(raw: str | None) -> str:
    """LOG_LEVEL, checked (logging itself would raise a bare ValueError on 'verbose')."""
    level = (raw or "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {(raw or '').strip()!r}")
    return level


def _sqlite_folder(url: str, var_dir: Path, default_db: str) -> None:
    """The folder of a SQLite database must exist: SQLite would otherwise create folders and an empty file
    and then fail on the first query. Chorus's own folder (var/, or CHORUS_VAR_DIR) is created, so the
    default works on a fresh clone; a DATABASE_URL pointing into a folder that does not exist is refused."""
    from sqlalchemy.engine import make_url

    if not url.startswith("sqlite"):
        return
    try:
        database = make_url(url).database
    except Exception:  # noqa: BLE001 - any unparsable URL is a configuration mistake
        raise SettingsError("DATABASE_URL: not a valid database URL (like sqlite:///var/chorus.db)") from None
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().parent
    if url == default_db:
        var_dir.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise SettingsError(f"DATABASE_URL: the folder {str(folder)!r} for the SQLite database does not exist "
                            "(create it, or correct the path)")


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str = field(repr=False)
    default_timezone: str = "Europe/London"
    default_language: str = "en"
    conversation_expiry_hours: int = 48
    quiet_hours: tuple[time, time] = (time(21, 0), time(9, 0))
    log_level: str = "INFO"
    var_dir: Path = field(default=PROJECT_ROOT / "var")
    telegram_bot_token: str | None = field(default=None, repr=False)
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_messaging_service_sid: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str | None = None  # tests and fakes only: where the REST client sends requests
    public_base_url: str | None = None
    # How many reverse proxies in front of the web app add X-Forwarded-For/-Proto (0: none, the default).
    # Sign-in throttling per address and the audit log's "from where" read the client's address through them.
    trusted_proxies: int = 0
    sms_default_region: str = "GB"
    sms_rate_per_second: float = 10.0  # SMS segments per second across all workers (1 for a US long code)
    # What the SMS provider charges per segment, as (amount, currency) from SMS_PRICE_PER_SEGMENT ("0.0079 USD");
    # None: the send preview says no price is configured instead of guessing one.
    sms_price_per_segment: tuple[Decimal, str] | None = None
    sentiment_analyzer: str = "feedback"  # feedback | textblob | vader | combined
    partnership_name: str = "Chorus partnership"
    digest_recipients: tuple[str, ...] = ()  # governance email list
    digest_telegram_chat: str | None = None  # a Telegram group that gets a short summary with a link
    digest_when: tuple[int, time] = (0, time(8, 0))  # weekday (0 = Monday) and local time the clock sends it
    safeguarding_lexicon_dir: Path | None = None
    safeguarding_reply: str = "default"  # 'default', 'off', or the deployment's own text ({org} is filled in)  # <lang>.yaml files that add to (or replace) the shipped lexicons
    smtp_host: str | None = None  # set: email is an outbox channel (alerts, digests)
    smtp_port: int = 587
    smtp_from: str = "chorus@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = True
    telegram_webhook_url: str | None = None  # set: webhook mode (served by the web app); unset: long polling
    telegram_webhook_secret: str | None = field(default=None, repr=False)
    telegram_api_base_url: str | None = None  # tests and fakes only, e.g. http://127.0.0.1:8081/bot
    telegram_rate_per_second: float = 30.0  # Telegram's limit per bot
    telegram_chat_rate_per_second: float = 1.0  # and per chat
    # Retention (surveys/retention.py): days after which the clock purges each kind of data; None keeps it.
    retention_free_text_days: int | None = None    # the words of answers and of inbound messages
    retention_contact_days: int | None = None      # contact details, counted from a contact's last activity
    retention_messages_days: int | None = None     # the text of the message log (in and out)
    retention_exports_days: int | None = 7         # background export files and their jobs
    retention_audit_days: int | None = None        # audit log entries
    # Encryption at rest (surveys/crypto.py): the current Fernet key, then older ones still accepted for
    # reading while `chorus keys rotate` moves everything to the current one. Empty: stored as plain text.
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)

    @property
    def sms_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def configured_channels(self) -> frozenset[str]:
        """The channels these settings let a process send through: the one place that decides it, for the
        worker (what it builds), the core (whether a safeguarding contact can be alerted) and the digest."""
        enabled = {"sms": self.sms_enabled, "email": bool(self.smtp_host), "telegram": self.telegram_enabled}
        return frozenset({"local", *(name for name, on in enabled.items() if on)})

    def webhook_secret(self) -> str:
        """The secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token (also the webhook's path):
        TELEGRAM_WEBHOOK_SECRET, or one derived from the installation's secret key."""
        if self.telegram_webhook_secret:
            return self.telegram_webhook_secret
        import hashlib
        import hmac

        return hmac.new(self.secret_key.encode(), b"telegram-webhook", hashlib.sha256).hexdigest()[:48]

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)


def normalise_database_url(url: str) -> str:
    """Accept the URLs hosting platforms hand out: `postgres://` and bare `postgresql://` mean psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _emails(env: dict, name: str) -> tuple[str, ...]:
    raw = env.get(name) or ""
    out = tuple(a.strip() for a in raw.replace(";", ",").split(",") if a.strip())
    for a in out:
        if "@" not in a or " " in a:
            raise SettingsError(f"{name}: {a!r} is not an email address (separate addresses with commas)")
    return out


def _chat_id(env: dict, name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if raw and not raw.lstrip("-").isdigit():
        raise SettingsError(f"{name}: expected a Telegram chat id (a number, negative for groups), got {raw!r}")
    return raw or None


def _day_time(env: dict, name: str, default: tuple[int, time]) -> tuple[int, time]:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    parts = raw.split()
    if len(parts) != 2 or parts[0][:3] not in _DAYS:
        raise SettingsError(f"{name}: expected a day and a time like 'mon 08:00', got {raw!r}")
    try:
        hour, minute = (int(x) for x in parts[1].split(":"))
        return _DAYS.index(parts[0][:3]), time(hour, minute)
    except ValueError:
        raise SettingsError(f"{name}: expected a day and a time like 'mon 08:00', got {raw!r}") from None


def _existing_dir(env: dict, name: str) -> Path | None:
    raw = env.get(name)
    if raw in (None, ""):
        return None
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise SettingsError(f"{name}: {raw!r} is not a directory")
    return path


def _int(env: dict, name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _retention_days(env: dict, name: str, default: int | None) -> int | None:
    """A retention period in days: unset takes the default, 'never' keeps the data (None)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if raw.lower() == "never":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(f"{name}: expected a whole number of days (at least 1) or 'never', got {raw!r}")
    return value


def _choice(env: dict, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in allowed:
        raise SettingsError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _float(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name}: must be more than 0, got {value}")
    return value


def _price(env: dict, name: str) -> tuple[Decimal, str] | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    parts = raw.split()
    try:
        amount = Decimal(parts[0]) if len(parts) == 2 else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or not re.fullmatch(r"[A-Za-z]{3}", parts[1]):
        raise SettingsError(f"{name}: expected an amount and a currency code such as 0.0079 USD, got {raw!r}")
    return amount, parts[1].upper()


def _quiet_hours(env: dict, name: str) -> tuple[time, time]:
    raw = env.get(name) or "21:00-09:00"
    try:
        start, end = (time.fromisoformat(part.strip()) for part in raw.split("-"))
    except ValueError:
        raise SettingsError(f"{name}: expected HH:MM-HH:MM such as 21:00-09:00, got {raw!r}") from None
    return start, end


def _secret_key(env: dict, var_dir: Path) -> str:
    """The key for address hashes. Set CHORUS_SECRET_KEY in production; locally one is made once and kept
    in var/secret_key, because changing it would make every stored address hash unfindable."""
    key = env.get("CHORUS_SECRET_KEY")
    if key:
        if len(key) < 16:
            raise SettingsError("CHORUS_SECRET_KEY: must be at least 16 characters")
        return key
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def _fernet_key(name: str, raw: str) -> str:
    """A Fernet key is 32 bytes in URL-safe base64 (44 characters): checked here without `cryptography`,
    so a mistyped key is refused at start with the variable's name, and no key means no import."""
    key = raw.strip()
    try:
        ok = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
    except (ValueError, UnicodeEncodeError):
        ok = False
    if not ok:
        raise SettingsError(f"{name}: expected a key made by `chorus keys generate` (44 characters of URL-safe "
                            f"base64), got {len(key)} characters")
    return key


def _encryption_keys(env: dict) -> tuple[str, ...]:
    current = (env.get("CHORUS_ENCRYPTION_KEY") or "").strip()
    old = [k for k in (env.get("CHORUS_ENCRYPTION_OLD_KEYS") or "").split(",") if k.strip()]
    if not current:
        if old:
            raise SettingsError("CHORUS_ENCRYPTION_OLD_KEYS: set CHORUS_ENCRYPTION_KEY too (the key to rotate to)")
        return ()
    keys = [_fernet_key("CHORUS_ENCRYPTION_KEY", current)]
    keys += [_fernet_key("CHORUS_ENCRYPTION_OLD_KEYS", k) for k in old]
    return tuple(dict.fromkeys(keys))


def load_settings(env: dict | None = None, dotenv: bool = True) -> Settings:
    """Read settings from `env` (default: the process environment, after loading `.env` if present)."""
    if env is None:
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(PROJECT_ROOT / ".env", override=False)
        env = dict(os.environ)
    var_dir = Path(env.get("CHORUS_VAR_DIR") or PROJECT_ROOT / "var")
    default_db = f"sqlite:///{var_dir / 'chorus.db'}"
    tz = env.get("CHORUS_TIMEZONE") or "Europe/London"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"CHORUS_TIMEZONE: unknown timezone {tz!r} (use an IANA name such as Europe/London)") from None
    level = parse_log_level(env.get("LOG_LEVEL"))
    url = normalise_database_url(env.get("DATABASE_URL") or default_db)
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise SettingsError(f"DATABASE_URL: only sqlite:/// and postgresql:// URLs are supported, got {url.split(':')[0]!r}")
    _sqlite_folder(url, var_dir, default_db)
    public = (env.get("PUBLIC_BASE_URL") or "").strip().rstrip("/") or None
    if public and not (public.startswith("https://") or public.startswith("http://")):
        raise SettingsError(f"PUBLIC_BASE_URL: expected the https:// address Twilio and Telegram reach, got {public!r}")
    sid, token = env.get("TWILIO_ACCOUNT_SID") or None, env.get("TWILIO_AUTH_TOKEN") or None
    if bool(sid) != bool(token):
        raise SettingsError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: set both or neither")
    if sid and not sid.startswith("AC"):
        raise SettingsError(f"TWILIO_ACCOUNT_SID: an account SID starts with AC, got {sid[:4]!r}...")
    service, sender = env.get("TWILIO_MESSAGING_SERVICE_SID") or None, env.get("TWILIO_FROM_NUMBER") or None
    if sid and not (service or sender):
        raise SettingsError("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER: one is needed to send SMS")
    region = (env.get("SMS_DEFAULT_REGION") or "GB").upper()
    if len(region) != 2 or not region.isalpha():
        raise SettingsError(f"SMS_DEFAULT_REGION: expected a two-letter country code such as GB, got {region!r}")
    token = env.get("TELEGRAM_BOT_TOKEN") or None
    if token and ":" not in token:
        raise SettingsError("TELEGRAM_BOT_TOKEN: expected the token BotFather gave you, like 123456:ABC-DEF...")
    webhook = (env.get("TELEGRAM_WEBHOOK_URL") or "").strip() or None
    if webhook and not webhook.startswith("https://"):
        raise SettingsError(f"TELEGRAM_WEBHOOK_URL: Telegram only calls https:// URLs, got {webhook!r}")
    if webhook and not token:
        raise SettingsError("TELEGRAM_WEBHOOK_URL: set TELEGRAM_BOT_TOKEN too")
    webhook_secret = env.get("TELEGRAM_WEBHOOK_SECRET") or None
    if webhook_secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", webhook_secret):
        raise SettingsError("TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
    return Settings(
        database_url=url,
        secret_key=_secret_key(env, var_dir),
        default_timezone=tz,
        default_language=env.get("CHORUS_LANGUAGE") or "en",
        conversation_expiry_hours=_int(env, "CONVERSATION_EXPIRY_HOURS", 48),
        quiet_hours=_quiet_hours(env, "QUIET_HOURS"),
        log_level=level,
        var_dir=var_dir,
        telegram_bot_token=token,
        telegram_webhook_url=webhook,
        telegram_webhook_secret=webhook_secret,
        telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
        telegram_rate_per_second=_float(env, "TELEGRAM_RATE_PER_SECOND", 30.0),
        telegram_chat_rate_per_second=_float(env, "TELEGRAM_CHAT_RATE_PER_SECOND", 1.0),
        twilio_account_sid=sid,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        twilio_messaging_service_sid=service,
        twilio_from_number=sender,
        twilio_api_base_url=env.get("TWILIO_API_BASE_URL") or None,
        public_base_url=public,
        trusted_proxies=_int(env, "CHORUS_TRUSTED_PROXIES", 0, minimum=0),
        sms_default_region=region,
        sms_rate_per_second=_float(env, "SMS_RATE_PER_SECOND", 10.0),
        sms_price_per_segment=_price(env, "SMS_PRICE_PER_SEGMENT"),
        sentiment_analyzer=_choice(env, "SENTIMENT_ANALYZER", ("feedback", "textblob", "vader", "combined"), "feedback"),
        safeguarding_lexicon_dir=_existing_dir(env, "SAFEGUARDING_LEXICON_DIR"),
        safeguarding_reply=(env.get("SAFEGUARDING_REPLY") or "").strip() or "default",
        partnership_name=(env.get("PARTNERSHIP_NAME") or "").strip() or "Chorus partnership",
        digest_recipients=_emails(env, "DIGEST_RECIPIENTS"),
        digest_telegram_chat=_chat_id(env, "DIGEST_TELEGRAM_CHAT"),
        digest_when=_day_time(env, "DIGEST_WHEN", (0, time(8, 0))),
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_int(env, "SMTP_PORT", 587),
        smtp_from=env.get("SMTP_FROM") or "chorus@localhost",
        smtp_username=env.get("SMTP_USERNAME") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_starttls=(env.get("SMTP_STARTTLS") or "true").lower() not in ("0", "false", "no"),
        retention_free_text_days=_retention_days(env, "RETENTION_FREE_TEXT_DAYS", None),
        retention_contact_days=_retention_days(env, "RETENTION_CONTACT_DAYS", None),
        retention_messages_days=_retention_days(env, "RETENTION_MESSAGES_DAYS", None),
        retention_exports_days=_retention_days(env, "RETENTION_EXPORTS_DAYS", 7),
        retention_audit_days=_retention_days(env, "RETENTION_AUDIT_DAYS", None),
        encryption_keys=_encryption_keys(env),
    )
