"""Safeguarding flags: tables of answers as service users type them (short, lower case, misspelt, no
punctuation) that must flag and ordinary feedback that must not; the hard cases and the side each was put
on; deployment lexicons (adding, replacing, a new language); and the errors a charity's editor sees for a
malformed lexicon file."""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from analysis.safeguarding import (
    CATEGORIES,
    LAYERS,
    SHIPPED_DIR,
    Hit,
    LexiconError,
    Safeguarding,
    load_lexicon,
    normalise,
)


DEV_TABLES = [Path(__file__).resolve().parent / "data" / "safeguarding" / name for name in ("en_dev.csv", "en_dev2.csv")]
NO_HIT = Hit((), ())


@pytest.fixture(scope="module")
def sg() -> Safeguarding:
    return Safeguarding()


# (answer, a category it must carry)
MUST_FLAG = [
    # suicide
    ("kil myself", "suicide"),
    ("i wanna kill myself", "suicide"),
    ("kms", "suicide"),
    ("i'll kms", "suicide"),
    ("IM GONNA KILL MYSELF!!!", "suicide"),
    ("i am going to kil my self", "suicide"),
    ("honestly just want to die", "suicide"),
    ("want 2 die", "suicide"),
    ("i wnt 2 die", "suicide"),
    ("wanna diee", "suicide"),
    ("i want to... die", "suicide"),
    ("i want to die lol", "suicide"),
    ("thinking about unaliving myself", "suicide"),
    ("i keep thinking about sewer slide", "suicide"),
    ("im going to end it all", "suicide"),
    ("cant go on", "suicide"),
    ("i cant go on like this", "suicide"),
    ("i cant take it anymore", "suicide"),
    ("no reason to live", "suicide"),
    ("nothing to live for", "suicide"),
    ("whats the point of living", "suicide"),
    ("life isnt worth living", "suicide"),
    ("theyd be better off without me", "suicide"),
    ("nobody would care if i was gone", "suicide"),
    ("im a burden to everyone", "suicide"),
    ("i dont want to be here anymore", "suicide"),
    ("I don\u2019t want to be here anymore.", "suicide"),     # curly apostrophe, capitals, full stop
    ("i dont wanna be alive", "suicide"),
    ("i feel suicidal", "suicide"),
    ("been feeling sucidal again", "suicide"),
    ("wish i was dead", "suicide"),
    ("i wish i wasnt alive", "suicide"),
    ("i just want to sleep and never wake up", "suicide"),
    ("i want to end my life", "suicide"),
    ("gonna take my own life", "suicide"),
    ("im going to jump off a bridge", "suicide"),
    ("i want to hang myself", "suicide"),
    # self-harm
    ("ive been cutting myself again", "self_harm"),
    ("i hurt myself last night", "self_harm"),
    ("i keep wanting to hurt myself", "self_harm"),
    ("self harming again", "self_harm"),
    ("been self-harming", "self_harm"),
    ("selfharm", "self_harm"),
    ("i burn myself", "self_harm"),
    ("took an overdose last week", "self_harm"),
    ("i overdosed", "self_harm"),
    ("swallowed a load of pills", "self_harm"),
    # abuse
    ("he hits me", "abuse"),
    ("she hit me", "abuse"),
    ("hes hitting me", "abuse"),
    ("they beat me", "abuse"),
    ("my partner beats me", "abuse"),
    ("my husband hits me when he drinks", "abuse"),
    ("my step dad has hit me", "abuse"),
    ("bf keeps slapping me", "abuse"),
    ("he chokes me", "abuse"),
    ("shes always pushing me around", "abuse"),
    ("he hurts the kids", "abuse"),
    ("he touched me", "abuse"),
    ("my uncle touched me where he shouldnt", "abuse"),
    ("someone touched me on the bus", "abuse"),
    ("i was raped", "abuse"),
    ("my dad abuses me", "abuse"),
    ("my ex was abusive", "abuse"),
    ("he wont let me leave the house", "abuse"),
    ("he takes all my money", "abuse"),
    ("im scared of him", "abuse"),
    ("scared to go home", "abuse"),
    ("not safe at home", "abuse"),
    # violence
    ("he threatened me with a knife", "violence"),
    ("someone pulled a knife on me", "violence"),
    ("he carries a gun", "violence"),
    ("i got stabbed", "violence"),
    ("got jumped on the way here", "violence"),
    ("going to hurt someone", "violence"),
    ("im going to hurt someone", "violence"),
    ("i swear ill kill him", "violence"),
    ("i want to punch someone", "violence"),
    # danger
    ("someone is following me", "danger"),
    ("my ex is stalking me", "danger"),
    ("theres a man outside my house", "danger"),
    ("in danger right now", "danger"),
    ("im in danger", "danger"),
    ("im not safe", "danger"),
    ("am not safe", "danger"),
    ("i fear for my life", "danger"),
    ("he said he will kill me", "danger"),
    ("theyre going to kill me", "danger"),
    ("he's gonna hurt me", "danger"),
    ("they threatened to kill me", "danger"),
    ("i feel trapped", "danger"),
    ("please call the police", "danger"),
    ("help me now", "danger"),
    # exploitation
    ("my son is being made to carry drugs", "exploitation"),
    ("they took my passport", "exploitation"),
    # destitution
    ("sleeping rough and its freezing", "destitution"),
    ("havent eaten in 3 days", "destitution"),
]

# Ordinary feedback, including the idioms that share words with real risk.
MUST_NOT_FLAG = [
    "the wait killed me",
    "The wait killed me but the staff were lovely",
    "the stairs are killing me",
    "the hold music is killing me",
    "the queue is going to kill me",
    "I could kill for a coffee after that queue",
    "dying to see the new centre open",
    "my kids are dying to come back",
    "you guys are killing it",
    "you lot are smashing it",
    "the cake was to die for",
    "killer deal on the food parcels",
    "this form is a killer",
    "shoot me an email with the details",
    "they said theyd shoot me a text",
    "shot me a message to say they were running late",
    "the bus fare really hurts my wallet",
    "I didn't want to be here on a Saturday but staff were great",
    "i dont want to be here on a saturday",
    "i cant go on tuesdays",
    "cant go on the trip next week",
    "i dont want to go on the trip",
    "i cant keep going to the office every week",
    "i nearly died laughing",
    "i killed myself laughing at the quiz",
    "i felt like dying of embarrassment when i fell over",
    "i was so bored i could die",
    "im dead tired after the shift",
    "your kindness really touched me",
    "it really touched me how much they cared",
    "she touched me with her kindness",
    "would it kill them to smile",
    "it wouldnt hurt them to answer the phone",
    "they kicked me out of the queue for no reason",
    "i got kicked off the course",
    "he grabbed me a chair",
    "my caseworker pushed me into applying for college",
    "they really pushed me to do better",
    "she hit me up on whatsapp",
    "they hit me with a 50 pound fine",
    "it hit me how lucky i am",
    "the staff member hit the nail on the head",
    "he beat me at chess lol",
    "she followed me up with a call",
    "she followed me on instagram",
    "the centre is in danger of closing",
    "i want to die my hair purple",
    "i cut myself off from the group chat",
    "substance abuse support was really useful",
    "i had a stabbing pain in my back",
    "ill take a stab at the form",
    "the app keeps crashing, i cant do this online",
    "i cant cope with the paperwork",
    "i dont want to live in this area anymore",
    "i will end up homeless if this continues",
    "staff were great",
    "nothing to improve",
    "no complaints",
    "keep up the good work",
    "brilliant service, cant fault it",
    "the advisor helped me sort my benefits",
    "my mum was really happy with the support",
    "my partner and i both found the course helpful",
    "the volunteer was really kind to my kids",
    "the food bank saved my life",
    "the drop in saved me",
    "please call me back",
    "can you help me with my rent",
    "he helped me fill in the forms",
    "staff took my details and called me back",
    "they took my benefits away",
    "im not sure the advice was right",
    "i dont feel like going today",
    "i had to wait three hours",
    "the heating was broken and it was freezing",
    "ill be there at 10",
    # the idioms issue 12 names: hunger and pain as figures of speech
    "this queue is killing me",
    "I'm dying for a coffee",
    "starving, when's lunch",
    "the hall was freezing",
]

# Hard cases: (answer, the category it gets or None, why it sits on that side). Recall comes first, so an
# ambiguous answer flags unless it is a well-known everyday idiom.
HARD_CASES = [
    ("i dont want to be here", "suicide", "bare, it may mean life; only a time or place ('on a Saturday') "
                                          "makes it a complaint about the visit"),
    ("i dont want to be here at all", "suicide", "'at all' adds no place or time"),
    ("i didnt want to be here on a saturday", None, "past tense and a day: about the visit"),
    ("lol kms", "suicide", "often a joke in texting, but the text cannot tell us which"),
    ("kmsl", None, "'killing myself laughing' is a different word"),
    ("i am not going to kill myself", "suicide", "negation is ignored: someone who says it is thinking it"),
    ("she touched me", "abuse", "a person and 'touched me' flags"),
    ("that really touched me", None, "no person: the warm sense"),
    ("my mum is going to kill me if im late", "danger", "a family member threatening to kill flags; a minute "
                                                        "of staff time against a missed threat"),
    ("the wait is going to kill me", None, "a wait is not a person"),
    ("i could kill him", "violence", "frustration or intent: cannot tell"),
    ("i could kill for a coffee", None, "the idiom"),
    ("i nearly hurt myself on the broken ramp", "self_harm", "an injury at the venue is worth a look anyway"),
    ("i wanted to die when i saw the queue", "suicide", "hyperbole, but 'wanted to die' is too close to call"),
    ("i want to die of embarrassment", None, "'die of embarrassment' is crossed out as an idiom"),
    ("i want to die for real", "suicide", "'to die for' is an idiom only after is/was/looks...; this is not"),
    ("I was threatened with a sanction by the jobcentre", "violence", "'was threatened' flags whatever the threat"),
    ("they hit me with a fine", None, "'hit me with a bill/fine' is the idiom"),
    ("my partner kicked me out", "abuse", "only being kicked out of a queue, course, or building is crossed out"),
    ("i hate my life", None, "not on its own: too common as a passing complaint"),
    # Words between the person and the act; the act done to someone else in the family.
    ("my fella comes home drunk and batters my mum", "abuse", "'...' lets words stand before a strong verb"),
    ("when my dad died it really hit me", None, "'it (really) hit me' is the idiom, not a blow"),
    ("my daughter beat me at uno lol", None, "beaten at a game"),
    # A goodbye without a reason; the same words with a holiday or an appointment are ordinary.
    ("wont be around after friday", "suicide", "no reason given: read as a goodbye"),
    ("i wont be around next week as im on holiday", None, "a holiday is the reason"),
    ("ill end it there, thanks", None, "ending a message"),
    # Homelessness now, not a story of how it ended.
    ("been sleeping in my van since christmas", "destitution", "a vehicle is not a home"),
    ("the baby slept in the car on the way home", None, "asleep on a journey"),
    ("we were homeless last year but now we have a flat", None, "told as the past"),
    ("rang the council and ive got nowhere with them", None, "no progress, not no home"),
    ("ive got nowhere", "destitution", "bare: no home"),
    ("they dont pay me enough", None, "a pay complaint"),
    ("they dont pay me at all and have my passport", "exploitation", "no pay at all is a sign of modern slavery"),
]


@pytest.mark.parametrize("answer,category", MUST_FLAG)
def test_flags(sg, answer, category):
    hit = sg.check(answer, "en")
    assert hit is not None, answer
    assert category in hit.categories


@pytest.mark.parametrize("answer", MUST_NOT_FLAG)
def test_does_not_flag(sg, answer):
    assert sg.check(answer, "en") is None


@pytest.mark.parametrize("answer,category,why", HARD_CASES)
def test_hard_cases(sg, answer, category, why):
    hit = sg.check(answer, "en")
    if category is None:
        assert hit is None, why
    else:
        assert hit is not None and category in hit.categories, why


def test_tables_are_big_enough():
    assert len(MUST_FLAG) >= 50 and len(MUST_NOT_FLAG) >= 50
    assert {c for _, c in MUST_FLAG} == set(CATEGORIES)


def test_every_shipped_rule_has_an_example(sg):
    """A rule nobody can show an answer for is a rule nobody has checked: every rule matches an answer of
    this file's table or of the dev tables (tests/data/safeguarding/en_dev.csv, en_dev2.csv)."""
    dev = [r["text"] for path in DEV_TABLES for r in csv.DictReader(path.open(encoding="utf-8")) if r["label"] == "flag"]
    lexicon = sg.lexicon("en")
    matched = {r for answer in [a for a, _ in MUST_FLAG] + dev for r in (lexicon.check(answer) or NO_HIT).rules}
    assert set(lexicon.rules) - matched == set()


def test_every_shipped_rule_names_its_source_and_has_examples(sg):
    """Each English rule says which published guidance it comes from, and gives the similarity layer answers
    in people's words."""
    lexicon = sg.lexicon("en")
    assert set(lexicon.sources) == set(lexicon.rules)
    assert all(len(s) > 10 and "," in s for s in lexicon.sources.values())
    assert set(lexicon.examples) == set(lexicon.rules)
    assert len(lexicon.ordinary) >= 50


def test_an_idiom_does_not_hide_a_risk_in_the_same_answer(sg):
    hit = sg.check("the wait killed me. honestly i want to kill myself", "en")
    assert hit is not None and hit.rules == ("suicide.kill_myself",)


def test_several_categories_are_sorted(sg):
    hit = sg.check("he hits me and i want to die", "en")
    assert hit.categories == ("abuse", "suicide")
    assert hit.rules == tuple(sorted(hit.rules))


@pytest.mark.parametrize("answer,_", MUST_FLAG)
def test_hit_carries_no_text_of_the_answer(sg, answer, _):
    hit = sg.check(answer, "en")
    assert [f.name for f in dataclasses.fields(Hit)] == ["categories", "rules", "layer", "score"]
    assert hit.layer in LAYERS and (hit.score is None) == (hit.layer == "lexicon")
    assert set(hit.categories) <= set(CATEGORIES)
    assert set(hit.rules) <= set(sg.lexicon("en").rules)
    for value in (*hit.categories, *hit.rules):
        assert answer.lower() not in value and normalise(answer).strip() not in value
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.rules = ()


def test_languages(sg):
    assert sg.languages() == frozenset({"en", "es"})


@pytest.mark.parametrize("tag", ["en", "en-GB", "EN", "en_US", " en-gb "])
def test_language_tags_match_on_the_primary_subtag(sg, tag):
    assert sg.check("i want to die", tag) is not None


@pytest.mark.parametrize("tag", ["fr", "pl-PL", "", "eng", "xx-en"])
def test_a_language_without_a_lexicon_gives_none(sg, tag):
    assert sg.check("i want to die", tag) is None


@pytest.mark.parametrize("answer", ["", "   ", "\U0001f600\U0001f600", "!!!", "a" * 10_000, "\n\n", "0"])
def test_odd_input(sg, answer):
    assert sg.check(answer, "en") is None


def test_a_long_answer_with_the_risk_at_the_end(sg):
    answer = "the staff were lovely and the building is clean. " * 40 + "but honestly i want to die"
    assert sg.check(answer, "en").categories == ("suicide",)


def test_normalise():
    assert normalise("I\u2019m  SO   tired") == " im so tired "
    assert normalise("killl mysellf") == normalise("kil myself") == " kil myself "
    assert normalise("no... really, 999!") == " no | realy | 999 | "
    assert normalise("caf\u00e9 na\u00efve_x") == " cafe naive x "


def test_the_shipped_file_loads_on_its_own():
    lexicon = load_lexicon(SHIPPED_DIR / "en.yaml")
    assert lexicon.language == "en" and "suicide.kill_myself" in lexicon.rules


# --- a deployment's own lexicons ------------------------------------------------------------------------------
def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extra_lexicon_adds_rules_phrases_and_idioms(tmp_path):
    write(tmp_path, "en.yaml", """\
risks:
  danger:
    hurts_pets:                         # a new rule, using a words list from the shipped file
      - <partner> (hurts/kicks/kicked/hurt/kills/killed) my (dog/cat/pet)
  suicide:
    want_to_die:                        # more phrases for a shipped rule
      - (check/checking) out for good
not_a_risk:
  - could kill (him/her) for (being/forgetting/not)
""")
    sg = Safeguarding(extra_dir=tmp_path)
    shipped = Safeguarding()
    assert sg.check("my boyfriend kicked my dog", "en").rules == ("danger.hurts_pets",)
    assert sg.check("im checking out for good", "en").rules == ("suicide.want_to_die",)
    assert shipped.check("im checking out for good", "en") is None
    # a local idiom stops flagging; the shipped phrases still work
    assert shipped.check("i could kill him for forgetting my birthday", "en") is not None
    assert sg.check("i could kill him for forgetting my birthday", "en") is None
    assert sg.check("kil myself", "en").rules == ("suicide.kill_myself",)
    assert set(sg.lexicon("en").rules) == set(shipped.lexicon("en").rules) | {"danger.hurts_pets"}


def test_extra_lexicon_can_replace_the_shipped_one(tmp_path):
    write(tmp_path, "en.yaml", "replace: true\nrisks:\n  danger:\n    code_word:\n      - red umbrella\n")
    sg = Safeguarding(extra_dir=tmp_path)
    assert sg.lexicon("en").rules == ("danger.code_word",)
    assert sg.check("I saw the RED umbrella", "en-GB") == Hit(("danger",), ("danger.code_word",))
    assert sg.check("i want to kill myself", "en") is None


def test_extra_lexicon_adds_a_language(tmp_path):
    write(tmp_path, "pt.yaml", """\
risks:
  suicide:
    quero_morrer:
      - (quero/kero) (morrer/me matar)
      - nao quero viver mais
""")
    sg = Safeguarding(extra_dir=tmp_path)
    assert sg.languages() == frozenset({"en", "es", "pt"})
    assert sg.check("kero morrer", "pt-BR").rules == ("suicide.quero_morrer",)
    assert sg.check("N\u00e3o quero viver mais.", "pt") is not None      # accents do not matter
    assert sg.check("i want to kill myself", "pt") is None               # each language has its own lexicon
    assert sg.check("quero morrer", "en") is None


def test_an_error_in_an_extra_file_names_that_file(tmp_path):
    path = write(tmp_path, "en.yaml", "risks:\n  abuse:\n    new_rule:\n      - <nobody> hit me\n")
    with pytest.raises(LexiconError) as e:
        Safeguarding(extra_dir=tmp_path)
    assert e.value.path == path and e.value.key == "risks.abuse.new_rule[1]"


def test_extra_dir_must_be_a_directory(tmp_path):
    with pytest.raises(LexiconError, match="extra_dir: is not a directory"):
        Safeguarding(extra_dir=tmp_path / "missing")


def test_a_yml_file_is_not_silently_ignored(tmp_path):
    write(tmp_path, "en.yml", "risks:\n  danger:\n    x: [red umbrella]\n")
    with pytest.raises(LexiconError, match="file name: name it en.yaml"):
        Safeguarding(extra_dir=tmp_path)


# --- malformed files: (file name, content, key named in the error, words of the problem) -----------------------
RULE = "risks:\n  abuse:\n    x:\n      - "
MALFORMED = [
    ("en.yaml", "", "file", "is empty"),
    ("en.yaml", "risks: [unclosed\n", "line 2", "not valid YAML"),
    ("en.yaml", "- a list\n", "(top level)", "expected a mapping"),
    ("en.yaml", "risk:\n  suicide:\n    x: [die]\n", "risk", "did you mean 'risks'"),
    ("en.yaml", "risks:\n  danger:\n    x: [help me now]\n    x: [call 999]\n", "line 4", "'x' appears twice"),
    ("en.yaml", "risks:\n  suicidal:\n    x: [die]\n", "risks.suicidal", "unknown category"),
    ("en.yaml", "risks:\n  danger:\n    my rule: [help]\n", "risks.danger.my rule", "only a-z, 0-9 and _"),
    ("en.yaml", "risks:\n  danger:\n    x: []\n", "risks.danger.x", "has no phrases"),
    ("en.yaml", "risks:\n  danger:\n    x:\n      - help\n      - yes\n", "risks.danger.x[2]", "yes/no"),
    ("en.yaml", RULE + "[maybe]\n", "risks.abuse.x[1]", "is a list or mapping"),
    ("en.yaml", RULE + "(he/she hit me\n", "risks.abuse.x[1]", "never closed"),
    ("en.yaml", RULE + "he hit me)\n", "risks.abuse.x[1]", "closes nothing"),
    ("en.yaml", RULE + "(he/she] hit me\n", "risks.abuse.x[1]", "closed by"),
    ("en.yaml", RULE + "he/she hit me\n", "risks.abuse.x[1]", "outside brackets"),
    ("en.yaml", RULE + "(he/) hit me\n", "risks.abuse.x[1]", "empty choice"),
    ("en.yaml", RULE + "(he/she)? hit me\n", "risks.abuse.x[1]", "use [ ]"),
    ("en.yaml", RULE + '"[maybe] [perhaps]"\n', "risks.abuse.x[1]", "needs at least one word"),
    ("en.yaml", RULE + "k*ll him\n", "risks.abuse.x[1]", "may only end a word"),
    ("en.yaml", RULE + "k* him\n", "risks.abuse.x[1]", "at least 2 letters"),
    ("en.yaml", RULE + "<nobody> hit me\n", "risks.abuse.x[1]", "<nobody> is not a list under `words:`"),
    ("en.yaml", RULE + "<persn> hit me\nwords:\n  person: [he]\n", "risks.abuse.x[1]", "did you mean <person>"),
    ("en.yaml", "words:\n  a: [<b>]\n  b: [<a> x]\n" + RULE + "<a>\n", "words.a", "refers to itself (<a> -> <b> -> <a>)"),
    ("en.yaml", "replace: maybe\n" + RULE + "he hit me\n", "replace", "true or false"),
    ("en.yaml", "words:\n  person: [he]\n", "risks", "no risk phrases"),
    ("fr.yaml", "language: en\n" + RULE + "he hit me\n", "language", "file is named fr.yaml"),
    ("lexicon.yaml", RULE + "he hit me\n", "language", "not a language code"),
    ("en.yaml", "not_a_risk:\n  - the wait killed me\n  - 7\n  - null\n" + RULE + "x\n", "not_a_risk[3]", "is empty"),
    # rules written as mappings (source, phrases, examples) and the ordinary answers
    ("en.yaml", "risks:\n  abuse:\n    x:\n      sorce: Refuge\n      phrases: [he hit me]\n", "risks.abuse.x.sorce",
     "did you mean 'source'"),
    ("en.yaml", "risks:\n  abuse:\n    x:\n      source: Refuge, Coercive control\n", "risks.abuse.x", "has no `phrases:`"),
    ("en.yaml", "risks:\n  abuse:\n    x:\n      source: ''\n      phrases: [he hit me]\n", "risks.abuse.x.source",
     "organisation and page title"),
    ("en.yaml", "risks:\n  abuse:\n    x:\n      phrases: [he hit me]\n      examples: ['!!!']\n", "risks.abuse.x.examples[1]",
     "not a sentence"),
    ("en.yaml", "risks:\n  abuse:\n    x:\n      phrases: [(he hit me]\n", "risks.abuse.x.phrases[1]", "never closed"),
    ("en.yaml", "ordinary: []\n" + RULE + "x\n", "ordinary", "expected a list of example answers"),
]


@pytest.mark.parametrize("name,content,key,problem", MALFORMED)
def test_malformed_lexicon(tmp_path, name, content, key, problem):
    path = write(tmp_path, name, content)
    with pytest.raises(LexiconError) as e:
        load_lexicon(path)
    assert (e.value.path, e.value.key) == (path, key)
    assert problem in e.value.problem
    assert str(e.value).startswith(f"{path}: {key}: ")


# --- the similarity layer (issue 12) ---------------------------------------------------------------------------
def test_the_similarity_layer_flags_a_paraphrase_no_phrase_lists(sg):
    lexicon_only = Safeguarding(similarity=False)
    answer = "you wont hear from me again after tonight"
    assert lexicon_only.check(answer, "en") is None
    hit = sg.check(answer, "en")
    assert hit.layer == "similarity" and hit.rules == ("suicide.goodbye",) and hit.categories == ("suicide",)
    assert 0.28 <= hit.score <= 1


def test_the_lexicon_reads_first_so_a_flag_has_one_layer(sg):
    hit = sg.check("i want to kill myself", "en")
    assert (hit.layer, hit.score) == ("lexicon", None)


@pytest.mark.parametrize("answer", ["the wait killed me", "I'm dying for a coffee", "this queue is killing me",
                                    "starving, when's lunch", "no thanks", "came with my neighbour",
                                    "the hall was freezing but the soup was hot"])
def test_idioms_and_short_answers_do_not_flag_with_both_layers(sg, answer):
    assert sg.check(answer, "en") is None


@pytest.mark.parametrize("answer", ["haven't eaten in 3 days", "I'm not going to kill myself",
                                    "my friend said she's going to kill herself"])
def test_hunger_negation_and_reported_speech_still_flag(sg, answer):
    assert sg.check(answer, "en") is not None


def test_which_layers_are_active_is_said_in_words(sg, tmp_path):
    assert sg.layers() == {"en": ("lexicon", "similarity"), "es": ("lexicon",)}
    assert sg.describe() == "safeguarding layers: lexicon (en, es) + similarity (en)"
    off = Safeguarding(similarity=False)
    assert off.similarity("en") is None and off.layers()["en"] == ("lexicon",)
    assert off.describe() == "safeguarding layers: lexicon (en, es); similarity layer off (lexicon only)"
    # a deployment's own language with a few examples: too few for a similarity layer, so lexicon only
    write(tmp_path, "pt.yaml", "risks:\n  suicide:\n    x:\n      source: CVV, Sinais\n      phrases: [quero morrer]\n"
                               "      examples: [quero morrer]\n")
    assert Safeguarding(extra_dir=tmp_path).layers()["pt"] == ("lexicon",)
