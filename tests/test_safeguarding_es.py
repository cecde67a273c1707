"""Spanish safeguarding lexicon (analysis/data/safeguarding/es.yaml): answers as Spanish speakers text them
(lower case, no accents, texting forms such as kiero, toy, q, xq; Spain and Latin America) that must flag,
ordinary Spanish feedback that must not (complaints full of idioms: "la espera me mató", "me muero de
hambre"), the hard cases and the side each was put on, and how Spanish fits beside English."""
from __future__ import annotations

import dataclasses

import pytest

from analysis.safeguarding import CATEGORIES, SHIPPED_DIR, Hit, Safeguarding, load_lexicon, normalise


@pytest.fixture(scope="module")
def sg() -> Safeguarding:
    return Safeguarding()


# (answer, a category it must carry)
MUST_FLAG = [
    # suicide
    ("me quiero morir", "suicide"),
    ("Me quiero morir.", "suicide"),
    ("kiero morirme ya", "suicide"),
    ("qiero morir", "suicide"),
    ("ya no quiero vivir mas", "suicide"),
    ("\u00a1\u00a1No quiero vivir m\u00e1s!!", "suicide"),
    ("no kiero seguir", "suicide"),
    ("no quiero seguir asi", "suicide"),
    ("me voy a matar", "suicide"),
    ("me boy a matar", "suicide"),
    ("quiero matarme", "suicide"),
    ("toy pensando en suicidarme", "suicide"),
    ("pienso en el suicidio todo el tiempo", "suicide"),
    ("tengo pensamientos suicidas", "suicide"),
    ("quiero acabar con todo", "suicide"),
    ("quiero quitarme la vida", "suicide"),
    ("ya no aguanto mas", "suicide"),
    ("no puedo mas", "suicide"),
    ("ya no doy mas", "suicide"),
    ("no puedo seguir asi", "suicide"),
    ("la vida no vale la pena", "suicide"),
    ("nada tiene sentido", "suicide"),
    ("no tengo razones para vivir", "suicide"),
    ("no tengo ganas de vivir", "suicide"),
    ("para q vivir", "suicide"),
    ("estarian mejor sin mi", "suicide"),
    ("soy una carga para mi familia", "suicide"),
    ("nadie me extra\u00f1aria", "suicide"),
    ("xq a nadie le importaria si me muero", "suicide"),
    ("ojala no despertar manana", "suicide"),
    ("ojala q me muera", "suicide"),
    ("quiero dormir y no despertar", "suicide"),
    ("estoy harta de vivir", "suicide"),
    ("me quiero tirar de un puente", "suicide"),
    ("quiero ahorcarme", "suicide"),
    ("me corto las venas", "suicide"),
    ("me voy a tomar lejia", "suicide"),
    ("ganas de desaparecer", "suicide"),
    ("prefiero estar muerta", "suicide"),
    ("ya me canse de vivir", "suicide"),
    ("me quiero ir de este mundo", "suicide"),
    # self-harm
    ("me corto los brazos", "self_harm"),
    ("me e vuelto a cortar", "self_harm"),
    ("me estoy cortando otra vez", "self_harm"),
    ("tengo ganas de cortarme", "self_harm"),
    ("me hago da\u00f1o", "self_harm"),
    ("me hice dano anoche", "self_harm"),
    ("me autolesiono", "self_harm"),
    ("hace meses q no me autolesionaba", "self_harm"),
    ("me tome todas las pastillas", "self_harm"),
    ("tome muchas pastillas para dormir", "self_harm"),
    ("creo q tome una sobredosis", "self_harm"),
    ("me quemo con cigarros", "self_harm"),
    ("tengo cortes en los brazos", "self_harm"),
    # abuse
    ("mi pareja me pega", "abuse"),
    ("mi marido me pega cuando bebe", "abuse"),
    ("me pega", "abuse"),
    ("me maltrata", "abuse"),
    ("mi novio me a pegado", "abuse"),
    ("el me dio una paliza", "abuse"),
    ("me da cachetadas", "abuse"),
    ("mi pareja me levanta la mano", "abuse"),
    ("mi ex me agarro del cuello", "abuse"),
    ("mi padrastro me quema", "abuse"),
    ("le pega a los ni\u00f1os", "abuse"),
    ("abuso de mi", "abuse"),
    ("abus\u00f3 de m\u00ed cuando era peque\u00f1a", "abuse"),
    ("mi tio me toco", "abuse"),
    ("me toco sin permiso", "abuse"),
    ("me toca las piernas", "abuse"),
    ("me violaron", "abuse"),
    ("me obliga a tener relaciones", "abuse"),
    ("sufro violencia de genero", "abuse"),
    ("no me deja salir de casa", "abuse"),
    ("el se queda con mi sueldo", "abuse"),
    ("me controla el celular", "abuse"),
    ("tengo miedo de volver a casa", "abuse"),
    ("no estoy a salvo en casa", "abuse"),
    ("le tengo miedo a mi marido", "abuse"),
    # violence
    ("me amenazo con un cuchillo", "violence"),
    ("me sacaron una navaja", "violence"),
    ("me apuntaron con una pistola", "violence"),
    ("me asaltaron saliendo del metro", "violence"),
    ("me apu\u00f1alaron", "violence"),
    ("fui agredida", "violence"),
    ("me rompieron la nariz", "violence"),
    ("voy a hacerle da\u00f1o a alguien", "violence"),
    ("quiero matar a alguien", "violence"),
    ("lo voy a matar", "violence"),
    ("le voy a partir la cara", "violence"),
    ("me dan ganas de matarlos", "violence"),
    # danger
    ("me estan siguiendo", "danger"),
    ("me sigue a todas partes", "danger"),
    ("estoy en peligro ahora", "danger"),
    ("corro peligro", "danger"),
    ("mi ex me va a matar", "danger"),
    ("me quiere matar", "danger"),
    ("mi ex me amenaza", "danger"),
    ("me manda mensajes amenazantes", "danger"),
    ("me estan esperando afuera", "danger"),
    ("hay un hombre afuera de mi casa", "danger"),
    ("llamen a la policia", "danger"),
    ("me tiene encerrada", "danger"),
    ("me siento atrapada", "danger"),
    ("no me siento segura", "danger"),
    ("socorro", "danger"),
    ("temo por mi vida", "danger"),
    ("ayudenme ya", "danger"),
    # exploitation
    ("a mi hijo lo obligan a vender droga", "exploitation"),
    ("nos quitaron los pasaportes y no podemos irnos", "exploitation"),
    ("trabajo sin cobrar para pagar la deuda del viaje", "exploitation"),
    # destitution
    ("duermo en la calle desde el lunes", "destitution"),
    ("no tengo donde dormir esta noche", "destitution"),
    ("no he comido en dias", "destitution"),
]

# Ordinary feedback, including the idioms that share words with real risk.
MUST_NOT_FLAG = [
    "la espera me mato",
    "La espera me mat\u00f3 pero el personal fue un amor",
    "la cola me va a matar",
    "esto me mato, siempre llegan tarde",
    "me mata la espera",
    "me mato el calor en la fila",
    "me muero de hambre en la cola",
    "me muero de ganas de volver",
    "me muero de risa con la profe",
    "me muero por volver al taller",
    "me quiero morir de la verguenza",
    "mataria por un cafe despues de esa cola",
    "fuimos a matar el tiempo al parque",
    "me mato a trabajar y aun asi no llego",
    "el personal es un amor",
    "mi jefa es un amor",
    "me toco esperar dos horas",
    "me toc\u00f3 una chica muy amable",
    "me toco a mi el ultimo turno",
    "la voluntaria me toco el corazon",
    "me cortaron la luz",
    "se me corto la llamada dos veces",
    "me corte el pelo aqui y quede genial",
    "no me corto un pelo al decir lo que pienso",
    "me pego un susto el telefono",
    "me pego la gripe mi hijo",
    "me pegaron el covid en el autobus",
    "me pega el sol en la cola",
    "se me pega la ropa del calor",
    "no aguanto mas la espera",
    "no puedo mas con el calor",
    "no puedo mas que dar las gracias",
    "no quiero seguir recibiendo mensajes",
    "no puedo seguir pagando el alquiler",
    "quiero acabar con todo el papeleo",
    "quiero desaparecer de su lista de mensajes",
    "no quiero estar aqui los sabados",
    "no quiero vivir en este barrio",
    "no estoy seguro de que la informacion sea correcta",
    "no estoy segura",
    "no me siento segura con el ordenador",
    "el centro esta en peligro de cierre",
    "hice el curso de primeros auxilios",
    "es un abuso lo que cobran",
    "precios abusivos",
    "violaron mis derechos en la oficina",
    "los precios se dispararon",
    "me dio una paliza al parchis",
    "me golpeo la realidad",
    "me dio un golpe de calor en la cola",
    "me siguen en instagram",
    "la profe me empujo a apuntarme al curso",
    "llame a la policia para pedir cita del nie",
    "le tengo miedo al dentista",
    "tengo miedo de perder la ayuda",
    "me quitaron la ayuda",
    "la trabajadora me quito un peso de encima",
    "me pegaron una multa por aparcar",
    "la clase de yoga me mato pero me encanto",
    "el medico me dijo que me tome todas las pastillas",
    "tengo que tomar todas las pastillas que me recetaron",
    "la app no me deja entrar",
    "no me deja dormir el ruido",
    "me corte con el papel jaja",
    "no quiero vivir lejos del centro",
    "me quede atrapado en el trafico",
    "el taller me dio ganas de vivir",
    "me siento sola desde que murio mi marido",
    "me ataco la alergia en la cola",
    "me asalto una duda con el formulario",
    "estoy muerta de cansancio",
    "la app es un arma de doble filo",
    "me controlan la tension cada mes",
    "le voy a pegar un toque a la asesora",
    "el personal me salvo la vida",
    "muchas gracias, todo perfecto",
    "la asesora me ayudo con los papeles",
    "mi marido y yo estamos contentos con el curso",
    "mis hijos disfrutaron mucho",
    "no tengo quejas",
    "sigan asi",
    "la comida estaba buenisima",
    "el local estaba muy limpio",
    "me gustaria que abrieran los sabados",
    "no me llamaron de vuelta",
    "tuve que esperar mucho",
    "la trabajadora social me ayudo con la renta",
]

# Hard cases: (answer, the category it gets or None, why it sits on that side). Recall comes first, as in
# English: an ambiguous answer flags unless it is a well-known everyday idiom.
HARD_CASES = [
    ("me quiero morir de la verg\u00fcenza", None, "'morir de vergüenza' is an idiom, like 'die of embarrassment'"),
    ("me quiero morir de tristeza", "suicide", "sadness is not on the idiom list: only the set phrases are"),
    ("me quiero morir, la cola era eterna", "suicide", "hyperbole, but 'me quiero morir' is too close to call"),
    ("me muero de tristeza", None, "'me muero' is never a risk on its own"),
    ("no aguanto mas", "suicide", "like 'can't take it anymore' in en.yaml"),
    ("no aguanto mas la espera", None, "a named everyday object makes it a complaint"),
    ("no aguanto mas esta situacion", "suicide", "'situation' is not an everyday object: it may be home"),
    ("no me quiero morir", "suicide", "negation is ignored"),
    ("casi me mato en la escalera rota", "suicide", "'me mato' is 'I kill myself'; an injury is worth a look"),
    ("me hice dano en la rodilla en la rampa", "self_harm", "like 'nearly hurt myself on the ramp'"),
    ("mi madre me va a matar si llego tarde", "danger", "like 'my mum is going to kill me if im late'"),
    ("lo mato si lo veo", "violence", "frustration or intent: cannot tell"),
    ("me robaron el movil", "violence", "like 'i was robbed'"),
    ("me amenazaron con quitarme la ayuda", "danger", "like 'threatened with a sanction'"),
    ("ella me toco", "abuse", "a person just before 'me tocó' flags"),
    ("con ella me toco esperar", None, "'me tocó' + infinitive is 'I had to'"),
    ("odio mi vida", None, "like 'i hate my life': too common as a passing complaint"),
    ("no estoy segura", None, "'I'm not sure'"),
    ("no me siento segura", "danger", "'I don't feel safe'"),
    ("no quiero vivir en este mundo", "suicide", "'this world' is not a place one moves out of"),
    ("no quiero volver a casa", "abuse", "like 'dont want to go home'"),
    ("me pego un tiro", "suicide", "'I'll shoot myself' (or 'he shot me'): never an idiom here"),
    ("nos maltratan en la ventanilla", "abuse", "mistreatment by staff flags, like 'abuse' in English"),
]


@pytest.mark.parametrize("answer,category", MUST_FLAG)
def test_flags(sg, answer, category):
    hit = sg.check(answer, "es")
    assert hit is not None, answer
    assert category in hit.categories


@pytest.mark.parametrize("answer", MUST_NOT_FLAG)
def test_does_not_flag(sg, answer):
    assert sg.check(answer, "es") is None


@pytest.mark.parametrize("answer,category,why", HARD_CASES)
def test_hard_cases(sg, answer, category, why):
    hit = sg.check(answer, "es")
    if category is None:
        assert hit is None, why
    else:
        assert hit is not None and category in hit.categories, why


def test_tables_are_big_enough():
    assert len(MUST_FLAG) >= 40 and len(MUST_NOT_FLAG) >= 40
    assert {c for _, c in MUST_FLAG} == set(CATEGORIES)


def test_every_shipped_rule_has_an_example(sg):
    """A rule nobody can show an answer for is a rule nobody has checked."""
    matched = {r for answer, _ in MUST_FLAG for r in sg.check(answer, "es").rules}
    assert set(sg.lexicon("es").rules) - matched == set()


def test_rule_names_match_the_english_ones(sg):
    """Staff read the rule name in an alert: the same situation has the same name in both languages."""
    assert set(sg.lexicon("es").rules) <= set(sg.lexicon("en").rules)


def test_spanish_ships(sg):
    assert "es" in sg.languages()
    assert load_lexicon(SHIPPED_DIR / "es.yaml").language == "es"


@pytest.mark.parametrize("tag", ["es", "es-MX", "es_AR", "ES", " es-es "])
def test_language_tags_match_on_the_primary_subtag(sg, tag):
    assert sg.check("me quiero morir", tag) == sg.check("me quiero morir", "es") == Hit(("suicide",), ("suicide.want_to_die",))


def test_each_conversation_is_judged_by_its_own_language(sg):
    # English risk phrases in a Spanish conversation are read by the Spanish lexicon only...
    assert sg.check("i want to kill myself", "es") is None
    assert sg.check("i want to kill myself", "en") is not None
    # ...which may still recognise a word both languages share, under a Spanish rule.
    hit = sg.check("i feel suicidal", "es-MX")
    assert hit is not None and set(hit.rules) <= set(sg.lexicon("es").rules)
    # and Spanish in an English conversation is read by the English lexicon only.
    assert sg.check("me quiero morir", "en") is None


def test_an_idiom_does_not_hide_a_risk_in_the_same_answer(sg):
    hit = sg.check("la espera me mato. la verdad quiero matarme", "es")
    assert hit is not None and hit.rules == ("suicide.kill_myself",)


def test_several_categories_are_sorted(sg):
    hit = sg.check("mi marido me pega y me quiero morir", "es")
    assert hit.categories == ("abuse", "suicide")
    assert hit.rules == tuple(sorted(hit.rules))


@pytest.mark.parametrize("answer,_", MUST_FLAG)
def test_hit_carries_no_text_of_the_answer(sg, answer, _):
    hit = sg.check(answer, "es")
    assert set(hit.categories) <= set(CATEGORIES)
    assert set(hit.rules) <= set(sg.lexicon("es").rules)
    for value in (*hit.categories, *hit.rules):
        assert answer.lower() not in value and normalise(answer).strip() not in value
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.rules = ()


@pytest.mark.parametrize("answer", ["", "   ", "\U0001f600\U0001f600", "\u00a1\u00a1!!", "a" * 10_000, "\u00f1" * 500])
def test_odd_input(sg, answer):
    assert sg.check(answer, "es") is None


def test_a_long_answer_with_the_risk_at_the_end(sg):
    answer = "el personal fue muy amable y el local estaba limpio. " * 40 + "pero la verdad ya no quiero vivir"
    assert sg.check(answer, "es").categories == ("suicide",)
