"""Chorus's own words (consent, keywords, re-prompts), per language.

Survey prompts come from the survey file; these are the texts around them. A language missing here falls
back to English text, and `chorus surveys validate` warns about it. Changing the consent texts means
bumping CONSENT_VERSION, because enrolments record which wording people agreed to.
"""
from __future__ import annotations

from surveys.parsing import strip_controls

CONSENT_VERSION = "2026-11.1"

LANGUAGE_NAMES = {
    "en": "English", "es": "Español", "pl": "Polski", "cy": "Cymraeg", "fr": "Français", "pt": "Português",
    "ar": "العربية", "ur": "اردو", "bn": "বাংলা", "ro": "Română", "uk": "Українська", "so": "Soomaali",
}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "consent_ask": "{org} would like to send you a few short questions now and then, to hear what you think of "
        "their services. Answers are kept securely and used only to improve services. Do you agree to take part?",
        "quote_ask": "Thank you! May we quote your words in reports, without your name or number?",
        "consent_thanks": "Thanks, that's saved. Reply HELP at any time for options, or STOP to stop.",
        "consent_declined": "No problem: you won't get any surveys from {org}. If you change your mind, send JOIN and your code again.",
        "consent_later": "No problem. Reply YES whenever you're ready to take part.",
        "join_help": "Hi! This number sends short feedback surveys for local services. To take part, send JOIN "
        "and the code you were given, for example JOIN FOODBANK.",
        "safeguarding_reply": "Thank you for telling us. A person from {org} will read your message. If you are in "
        "danger now, call 999. You can talk to Samaritans any time, free, on 116 123.",
        "safeguarding_reply_unwatched": "Thank you for telling us. Messages here are not read straight away, so if "
        "you are in danger now, call 999. You can talk to Samaritans any time, free, on 116 123.",
        "join_bad_code": "Sorry, we don't recognise the code {code}. Please check it with the organisation that gave it to you.",
        "join_already": "You're already taking part with {org}. Reply HELP for options.",
        "stop_confirm": "You're unsubscribed and won't get more messages from us. Reply START to rejoin.",
        "start_welcome_back": "Welcome back! You'll get our feedback surveys again. Reply STOP at any time.",
        "start_already": "You're already subscribed. Reply HELP for options.",
        "help": "Short feedback surveys for {orgs}. Your answers help improve local services. Reply SKIP to skip "
        "a question, LANGUAGE to change language, CONSENT to change what you agreed, MYDATA for a copy of your data, DELETE to erase it, STOP to stop.",
        "mydata_coming": "We're sending you a copy of everything we hold about you, in {count} messages after this one.",
        "mydata_coming_one": "We're sending you a copy of everything we hold about you, in one message after this one.",
        "mydata_here": "Here is a copy of everything we hold about you (messages: {count}). We no longer keep your "
        "number, so it comes as replies to this one.",
        "mydata_recent": "We sent you a copy of your data less than a day ago. You can ask again tomorrow, or ask the "
        "organisation for one.",
        "skip_nothing": "There's no question to skip right now.",
        "language_ask": "Which language would you like?",
        "language_set": "OK, I'll write in English from now on.",
        "language_reprompt": "Please reply with the number of a language.",
        "delete_ask": "This will permanently delete your answers and details. Reply DELETE again to confirm, "
        "or anything else to keep them.",
        "delete_done": "Done: your answers and details have been deleted. You won't hear from us again unless you join again.",
        "delete_cancelled": "OK, nothing has been deleted.",
        "erasure_receipt": "As you asked, we have erased your answers and details ({orgs}) from our feedback "
        "system (reference E-{ref}). You won't hear from us again unless you join again.",
        "reprompt_number": "Please reply with a number from {min} to {max}.",
        "reprompt_number_labels": "Please reply with a number from {min} ({min_label}) to {max} ({max_label}).",
        "reprompt_choice": "Please reply with the number of one of the options.",
        "reprompt_yesno": "Please reply YES or NO.",
        "reprompt_text": "Please reply in words, or SKIP to skip this question.",
        "late": "Thanks for your message. That survey has closed, but we've passed your words on to the team.",
        "comment": "Thanks, we've passed your message on to the team. There's no survey open right now; reply HELP for options.",
        "media_only": "Sorry, we can only read text replies. Please type your answer.",
        "bad_address": "Sorry, we can't sign up this number: it doesn't look like a phone number we can text back.",
        "edit_applied": "Thanks, I've updated that answer.",
        "reminder": "A quick reminder from {org}: we'd love to hear from you. Reply STOP to stop these messages.",
        "yes": "Yes",
        "no": "No",
    },
    "es": {
        "consent_ask": "{org} quiere enviarte de vez en cuando unas preguntas cortas para saber qué opinas de sus "
        "servicios. Las respuestas se guardan de forma segura y solo se usan para mejorar. ¿Aceptas participar?",
        "quote_ask": "¡Gracias! ¿Podemos citar tus palabras en informes, sin tu nombre ni tu número?",
        "consent_thanks": "Gracias, queda guardado. Responde AYUDA para ver opciones o STOP para dejar de participar.",
        "consent_declined": "De acuerdo: no recibirás encuestas de {org}. Si cambias de opinión, envía JOIN y tu código otra vez.",
        "consent_later": "De acuerdo. Responde SÍ cuando quieras participar.",
        "safeguarding_reply": "Gracias por contárnoslo. Una persona de {org} leerá tu mensaje. Si estás en peligro "
        "ahora, llama al 999. Puedes hablar con Samaritans cuando quieras, gratis, en el 116 123.",
        "safeguarding_reply_unwatched": "Gracias por contárnoslo. Los mensajes de aquí no se leen enseguida: si "
        "estás en peligro ahora, llama al 999. Puedes hablar con Samaritans cuando quieras, gratis, en el 116 123.",
        "join_help": "¡Hola! Este número envía encuestas cortas sobre servicios locales. Para participar, envía JOIN "
        "y el código que te dieron, por ejemplo JOIN FOODBANK.",
        "join_bad_code": "Lo sentimos, no reconocemos el código {code}. Compruébalo con la organización que te lo dio.",
        "join_already": "Ya participas con {org}. Responde AYUDA para ver opciones.",
        "stop_confirm": "Te has dado de baja y no recibirás más mensajes. Responde START para volver.",
        "start_welcome_back": "¡Bienvenido/a de nuevo! Volverás a recibir nuestras encuestas. Responde STOP cuando quieras.",
        "start_already": "Ya estás suscrito/a. Responde AYUDA para ver opciones.",
        "help": "Encuestas cortas para {orgs}. Tus respuestas ayudan a mejorar los servicios. Responde SALTAR para "
        "saltar una pregunta, IDIOMA para cambiar de idioma, CONSENT para cambiar lo que aceptaste, MISDATOS para recibir una copia de tus datos, BORRAR para borrarlos, STOP para salir.",
        "mydata_coming": "Te enviamos una copia de todo lo que guardamos sobre ti, en {count} mensajes después de este.",
        "mydata_coming_one": "Te enviamos una copia de todo lo que guardamos sobre ti, en un mensaje después de este.",
        "mydata_here": "Aquí tienes una copia de todo lo que guardamos sobre ti (mensajes: {count}). Ya no guardamos "
        "tu número, así que llega como respuesta a este.",
        "mydata_recent": "Te enviamos una copia de tus datos hace menos de un día. Puedes pedirla otra vez mañana, o "
        "pedírsela a la organización.",
        "skip_nothing": "Ahora no hay ninguna pregunta que saltar.",
        "language_ask": "¿En qué idioma prefieres?",
        "language_set": "De acuerdo, a partir de ahora escribiré en español.",
        "language_reprompt": "Responde con el número de un idioma.",
        "delete_ask": "Esto borrará para siempre tus respuestas y tus datos. Responde BORRAR otra vez para confirmar, "
        "o cualquier otra cosa para conservarlos.",
        "delete_done": "Hecho: hemos borrado tus respuestas y tus datos. No volverás a saber de nosotros salvo que te unas otra vez.",
        "delete_cancelled": "De acuerdo, no se ha borrado nada.",
        "erasure_receipt": "Como pediste, hemos borrado tus respuestas y tus datos ({orgs}) de nuestro "
        "sistema de opiniones (referencia E-{ref}). No volverás a saber de nosotros salvo que te unas otra vez.",
        "reprompt_number": "Responde con un número del {min} al {max}.",
        "reprompt_number_labels": "Responde con un número del {min} ({min_label}) al {max} ({max_label}).",
        "reprompt_choice": "Responde con el número de una de las opciones.",
        "reprompt_yesno": "Responde SÍ o NO.",
        "reprompt_text": "Responde con palabras, o SALTAR para saltar esta pregunta.",
        "late": "Gracias por tu mensaje. Esa encuesta ya se cerró, pero hemos pasado tus palabras al equipo.",
        "comment": "Gracias, hemos pasado tu mensaje al equipo. Ahora no hay ninguna encuesta abierta; responde AYUDA para ver opciones.",
        "media_only": "Lo sentimos, solo podemos leer respuestas de texto. Escribe tu respuesta, por favor.",
        "bad_address": "Lo sentimos, no podemos registrar este número: no parece un teléfono al que podamos escribir.",
        "edit_applied": "Gracias, he actualizado esa respuesta.",
        "reminder": "Un recordatorio de {org}: nos encantaría saber tu opinión. Responde STOP para no recibir más mensajes.",
        "yes": "Sí",
        "no": "No",
    },
}

# Localised keyword spellings (normalised: lowercase, no accents). English keywords work in every language.
KEYWORD_ALIASES: dict[str, dict[str, str]] = {
    "es": {"ayuda": "HELP", "idioma": "LANGUAGE", "saltar": "SKIP", "borrar": "DELETE", "baja": "STOP", "alta": "START",
           "misdatos": "MYDATA"},
}


def text(language: str, key: str, **values: object) -> str:
    """The text `key` in `language` (English when that language lacks it), with `values` filled in.

    A value may be something a person typed (the code in "we don't recognise the code X"): every value is
    cleaned of control characters here, the one place replies are filled in, so no reply carries one (an
    SMS reply is XML, and XML 1.0 cannot hold them)."""
    template = TEXTS.get(language, TEXTS["en"]).get(key) or TEXTS["en"][key]
    if not values:
        return template
    return template.format(**{name: strip_controls(v) if isinstance(v, str) else v for name, v in values.items()})


def consent_wording(version: str, language: str, org: str) -> tuple[str, str] | None:
    """The consent question and the quote question of consent wording `version`, in `language`, for `org`; None
    when that version's words are no longer kept (only the current version's are, here)."""
    if version != CONSENT_VERSION:
        return None
    return text(language, "consent_ask", org=org), text(language, "quote_ask")


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def supported_languages() -> tuple[str, ...]:
    return tuple(TEXTS)
