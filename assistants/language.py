"""The language a customer wrote in, and so the language of the reply.

lingua-language-detector compares the text with letter n-gram models of each language it is
given. It is given the four languages we reply in and a few that customers of a European shop
also write in (Italian, Dutch, Portuguese, Polish, Swedish, Danish): an Italian email must come
out as "other", not as the closest of our four. A text too short to tell ("#1002?") stays
English, as does one where no language is clearly ahead.

The detector's models for the ten languages take about 2 s and 320 MB to load (measured on the
2-core development machine; a text is compared with every model, so the first text loads them all).
A process that never drafts never pays for it: the web loads them on its first draft. A Celery
worker loads them in its main process before the pool forks (`language_models_load`, from
assistants/tasks.py), so its pool processes share one copy and no draft waits for the load (under
load the lazy first call took long enough to hit a task's soft time limit).
"""

from __future__ import annotations

import re
import threading

REPLY_LANGUAGES = ("en", "de", "es", "fr")
OTHER = "other"
# Below this share of the detector's confidence the text is not clearly in any one language.
_MIN_CONFIDENCE = 0.35
_MIN_LETTERS = 8

_detector = None
_lock = threading.Lock()


def _lingua(*, preload: bool = False):
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import Language, LanguageDetectorBuilder  # heavy: loaded once, on first use

                languages = (Language.ENGLISH, Language.GERMAN, Language.SPANISH, Language.FRENCH, Language.ITALIAN,
                             Language.DUTCH, Language.PORTUGUESE, Language.POLISH, Language.SWEDISH, Language.DANISH)
                builder = LanguageDetectorBuilder.from_languages(*languages)
                _detector = (builder.with_preloaded_language_models() if preload else builder).build()
    return _detector


def language_models_load() -> None:
    """Load every language model now (a worker's main process, before it forks its pool)."""
    _lingua(preload=True)


def language_detect(text: str, *, fallback: str = "en") -> str:
    """en, de, es or fr; `other` for a language we do not reply in; `fallback` (one of the four:
    the intent model's guess) when the text is too short or too mixed to tell ("ou est ma
    commande svp" has no accents and few letters to go on)."""
    letters = re.sub(r"[^\w]|[\d_]", "", text)
    if len(letters) < _MIN_LETTERS:
        return fallback
    values = _lingua().compute_language_confidence_values(text)
    if not values or values[0].value < _MIN_CONFIDENCE:
        return fallback
    code = values[0].language.iso_code_639_1.name.lower()
    return code if code in REPLY_LANGUAGES else OTHER
