"""Composition: build the store with the parts the core needs, such as the answer tagger from analysis."""
from __future__ import annotations

import logging

from config.settings import Settings, SettingsError, load_settings
from surveys.store import Store

log = logging.getLogger("chorus.safeguarding")


def make_store(settings: Settings | None = None) -> Store:
    settings = settings or load_settings()
    return Store(settings, tagger=make_tagger(settings))


def make_tagger(settings: Settings):
    """The answer tagger of `settings`: sentiment and safeguarding (analysis), as the service runs them."""
    from analysis.safeguarding import LexiconError, Safeguarding
    from analysis.sentiment import SentimentTagger, make_analyzer
    from analysis.tagger import AnswerAnalysis

    try:
        safeguarding = Safeguarding(settings.safeguarding_lexicon_dir)
    except LexiconError as exc:   # a broken lexicon stops the service at start, naming file, key and problem
        raise SettingsError(f"safeguarding lexicon: {exc}") from None
    return AnswerAnalysis(SentimentTagger(make_analyzer(settings.sentiment_analyzer)), safeguarding)


def simulator_screens() -> dict:
    """The survey simulator's channel screens (surveys.simulator.Screen), by channel name: each channel's own
    rendering, so the console shows what SMS and Telegram would send without importing either."""
    from bot.simulator import TelegramScreen
    from sms.simulator import SmsScreen

    return {"sms": SmsScreen(), "telegram": TelegramScreen()}


def survey_checks(settings: Settings):
    """What the core's survey checks (surveys.checks) must ask other rooms: the safeguarding lexicons
    configured in `settings` (a bad lexicon folder raises analysis.safeguarding.LexiconError) and the SMS
    channel's cost of a text."""
    from analysis.safeguarding import Safeguarding
    from sms.channel import sms_cost
    from surveys.checks import SurveyChecks

    safeguarding = Safeguarding(settings.safeguarding_lexicon_dir, similarity=False)
    return SurveyChecks(watched=lambda language: safeguarding.lexicon(language) is not None, sms_cost=sms_cost)


def send_estimates(settings: Settings):
    """What the send preview (surveys.wave_preview) must ask the channels: an SMS body's segments as sent,
    each channel's rate-limit units and rate (the worker's, config.worker.channels_for), and what each
    provider charges: SMS_PRICE_PER_SEGMENT when set, else no figure and a note saying so."""
    from sms.channel import sms_cost, sms_units
    from surveys.wave_preview import Pricing, SendEstimates

    price = settings.sms_price_per_segment
    sms = (Pricing("Twilio", "segment", price[0], price[1]) if price else
           Pricing("Twilio", "segment", None, None, "no price configured: set SMS_PRICE_PER_SEGMENT (like 0.0079 USD)"))
    return SendEstimates(
        sms_segments=sms_cost,
        units=lambda channel, message: sms_units(message) if channel == "sms" else 1,
        rates={"sms": settings.sms_rate_per_second, "telegram": settings.telegram_rate_per_second, "local": None},
        pricing={"sms": sms,
                 "telegram": Pricing("Telegram Bot API", "message", None, None, "Telegram does not charge per message"),
                 "local": Pricing("local (this terminal)", "message", None, None, "nothing is sent to a provider")})


def announce(store: Store) -> None:
    """Said once when a long-running process starts (web, bot, worker, clock; `chorus run` prints it): which
    safeguarding layers read which languages, so a deployment without the similarity layer knows it. Not in
    one-off commands, whose output is their answer."""
    safeguarding = getattr(store.tagger, "safeguarding", None)
    if safeguarding is not None:
        log.info(safeguarding.describe())
