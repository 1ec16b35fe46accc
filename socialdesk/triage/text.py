"""Language and sentiment: the statistical signals of the first triage tier.

Both models ship inside their packages (py3langid, vaderSentiment), so nothing
is downloaded at run time.
"""

from functools import cache

# Restricting the identifier to the languages a desk is likely to meet makes
# it several times faster than the full 97-language model (≈90 µs a post).
LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "tr", "ru",
             "ar", "hi", "ja", "ko", "zh", "id"]
# VADER's published thresholds for three classes.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


@cache
def _identifier():
    import py3langid.langid as langid

    identifier = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    identifier.set_languages(LANGUAGES)
    return identifier


@cache
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def detect_language(text: str) -> str:
    if len(text.strip()) < 3:
        return ""
    lang, _score = _identifier().classify(text)
    return lang


def sentiment(text: str) -> tuple[str, float]:
    """(label, VADER compound score in [-1, 1])."""
    compound = _analyzer().polarity_scores(text)["compound"]
    if compound >= POSITIVE_AT:
        return "positive", compound
    if compound <= NEGATIVE_AT:
        return "negative", compound
    return "neutral", compound
