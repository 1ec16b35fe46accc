"""The danger cues (safety, legal, press, regulator, fraud, data breach) in English,
French, Spanish and German, each with hard negatives: the same words in another
sense. And the challenge sets `socialdesk eval` scores them on."""

import pytest

from socialdesk.lib.conditions import CUES
from socialdesk.triage import evaluation as ev
from socialdesk.triage.cues import risk_cues

POSITIVES = [
    ("safety", "the fan heater is sparking and the plug is scorched"),
    ("safety", "my daughter blistered her hand on the kettle handle"),
    ("safety", "the vape battery swelled up overnight"),
    ("safety", "we were ill for two days after eating the chicken pie"),
    ("safety", "la friteuse a pris feu pendant la cuisson"),
    ("safety", "el cargador del móvil empezó a echar humo"),
    ("safety", "die Steckdose riecht verbrannt und ist geschmolzen"),
    ("legal", "I'm getting a solicitor involved"),
    ("legal", "we'll settle this through the courts then"),
    ("legal", "je vais porter plainte contre votre enseigne"),
    ("legal", "pondré una demanda si no me contestan"),
    ("legal", "mein Anwalt prüft den Vertrag"),
    ("press", "Reporter at the Echo here, looking for comment on the closures"),
    ("press", "can you comment before our 4pm deadline?"),
    ("press", "je prépare un article sur les retards de trains"),
    ("press", "soy periodista y escribo un reportaje sobre las tarifas"),
    ("press", "Presseanfrage: Stellungnahme zu den Lieferproblemen"),
    ("regulator", "I've complained to Ofcom"),
    ("regulator", "dossier transmis à la DGCCRF"),
    ("fraud", "someone has been using my card on your app"),
    ("fraud", "there are orders on my account I never placed"),
    ("fraud", "des prélèvements frauduleux sur ma carte"),
    ("fraud", "unberechtigte Abbuchungen seit Montag"),
    ("data_breach", "your email had another customer's address and order in it"),
    ("data_breach", "were our passwords leaked in the breach?"),
    ("data_breach", "Datenpanne bei Ihnen? Ich bekomme Spam an meine Kundenadresse"),
]

HARD_NEGATIVES = [
    "this new burger is fire, the sauce slaps",
    "sparking a debate about pineapple on pizza here",
    "I started smoking again, your nicotine gum didn't help me quit",  # a habit, not a hazard
    "scorch marks on the steak from your griddle pan, perfect",
    "my lawyer friend swears by your coffee",
    "press the button twice to pair the earbuds",
    "your story on Instagram was so funny",
    "what a fraud that referee was, anyway, order arrived",
    "my card got declined at checkout, what's wrong?",
    "can I change the address on my account?",
    "ce plat est une bombe, merci",
    "¿cuál es el plazo de entrega a Canarias?",
    "Die neue Sorte ist der Knaller",
]


@pytest.mark.parametrize(("cue", "text"), POSITIVES)
def test_each_danger_cue_is_found_in_each_language_with_its_evidence(cue, text):
    found = {m.name: m.evidence for m in risk_cues(text)}
    assert cue in found, text
    assert all(words.lower() in text.lower() for words in found[cue])


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_the_same_words_in_another_sense_raise_no_danger_cue(text):
    danger = {m.name for m in risk_cues(text)} & set(ev.CHALLENGED_CUES)
    assert not danger, (text, danger)


def test_the_challenge_sets_name_known_cues_and_languages():
    for dataset, names in ev.CUE_SETS.items():
        items = ev.challenge_items(names)
        assert items, dataset
        for item in items:
            assert set(item["cues"]) <= set(CUES) and item["lang"] in ("en", "fr", "es", "de")
            assert item["text"].strip()


def test_the_rules_meet_the_goals_on_the_sets_they_were_written_against():
    rows = ev.cue_rows(ev.challenge_items(ev.CUE_SETS["cue challenge, development"]), "dev")
    for row in rows:
        goal = dict(ev.CUE_GOALS).get(row.measure.split()[1])
        if goal:
            wanted = goal[0] if row.measure.endswith("recall") else goal[1]
            assert row.value >= wanted, row


def test_eval_scores_the_held_out_set_with_a_goal_and_a_gap_per_cue():
    rows = [r for r in ev.all_cue_rows() if r.dataset == "cue challenge, held out"]
    assert len(rows) == 2 * len(ev.CHALLENGED_CUES)
    safety = next(r for r in rows if r.measure == "cue safety recall")
    assert safety.n > 0 and safety.note.startswith("goal ≥ 0.95")
