"""The language of a post.

py3langid (its model ships in the package) costs about 50 µs a post, as much
as the rest of the fast tier together. Most posts a desk sees are in its main
language, so plain-ASCII text with several English function words is taken
as English without asking the model; everything else goes to py3langid,
restricted to the languages a desk is likely to meet.
"""

from functools import cache

LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "tr", "ru",
             "ar", "hi", "ja", "ko", "zh", "id"]
# Words frequent in English and rare as words of the other languages above
# ("in", "is", "a", "de", "en", "die" are left out: they are words elsewhere too).
_ENGLISH = frozenset("""
the and you your my our this that with have has had was were are be been for from
not but what when where why how which who will would could should can't don't it's
i'm i've just about there their they them our out get got any some very really
""".split())
# Distinct English words needed before the shortcut trusts them.
_ENOUGH = 3


@cache
def _identifier():
    import py3langid.langid as langid

    identifier = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    identifier.set_languages(LANGUAGES)
    return identifier


def detect_language(text: str) -> str:
    if len(text.strip()) < 3:
        return ""
    if text.isascii() and len(_ENGLISH.intersection(text.lower().split())) >= _ENOUGH:
        return "en"
    lang, _score = _identifier().classify(text)
    return lang
