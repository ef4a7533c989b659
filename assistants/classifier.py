"""The intent of one customer request, from a model trained on labelled examples.

Character n-grams (2 to 5 letters, within word boundaries) weighted by TF-IDF feed a linear SVM:
n-grams carry over between languages and survive typos, missing accents and odd casing
("wo ist meine bestelung", "ou est ma commande") where word lists would not. Its scores become
probabilities by temperature scaling fitted on 3-fold cross-validated scores (one parameter for
all intents, so the ranking is the SVM's and a probability of 0.8 is right about 80% of the
time; `manage.py intent_report` measures both on a held-out fifth). A second SVM on the same
features names the language.

The model is trained from `data/intent_examples.yaml` once per process, on first use, in well
under a second of CPU; the same examples give the same model (liblinear is seeded, the folds
are not shuffled), so no trained file is kept in the repository.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:  # scikit-learn is imported on first use: a process that never classifies never pays for it
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

EXAMPLES_FILE = Path(__file__).resolve().parent / "data" / "intent_examples.yaml"

INTENTS = (
    "order_status", "delivery_deadline", "availability", "price", "returns", "refund_status", "cancellation",
    "address_change", "damaged_item", "delay_complaint", "product_request", "shipping_policy", "store_collection",
    "wholesale", "privacy", "general",
)
LANGUAGES = ("en", "de", "es", "fr")
# The SVM's inverse regularization (larger fits the examples more closely), its stopping tolerance
# (1e-3 gives the same predictions as the default 1e-4 in less time) and the folds that calibrate
# it; chosen with intent_report (accuracy and log loss on the held-out fifth).
_C = 1.0
_TOLERANCE = 1e-3
_CALIBRATION_FOLDS = 3

Ranked = list[tuple[str, float]]


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    language: str


def intent_examples_load(path: Path = EXAMPLES_FILE) -> list[Example]:
    """The labelled requests, refusing an unknown intent or language by its line's text."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser reads the file ~7x faster
    rows = (yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or {}).get("examples") or []  # noqa: S506
    examples = []
    for row in rows:
        example = Example(str(row["text"]).strip(), str(row["intent"]), str(row["language"]))
        if example.intent not in INTENTS:
            raise ValueError(f"{path}: unknown intent {example.intent!r} for {example.text!r}")
        if example.language not in LANGUAGES:
            raise ValueError(f"{path}: unknown language {example.language!r} for {example.text!r}")
        examples.append(example)
    return examples


def text_normalize(text: str) -> str:
    """What the model reads: numbers become 0 (order 1043 and order 2210 are the same request),
    typographic apostrophes become plain ones, runs of space one space."""
    text = text.replace("’", "'").replace("`", "'")
    return " ".join(re.sub(r"\d+", "0", text).split())


def _vectorizer() -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer  # on first use (see the top)

    # strip_accents: customers write "ou est" as often as "où est".
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, strip_accents="unicode",
                           sublinear_tf=True)


@dataclass(frozen=True)
class IntentModel:
    vectorizer: TfidfVectorizer
    intents: CalibratedClassifierCV
    languages: LinearSVC

    def classify(self, text: str) -> tuple[str, float, Ranked]:
        features = self.vectorizer.transform([text_normalize(text)])
        probabilities = self.intents.predict_proba(features)[0]
        ranked = sorted(zip((str(c) for c in self.intents.classes_), (float(p) for p in probabilities), strict=True),
                        key=lambda pair: (-pair[1], pair[0]))
        return ranked[0][0], ranked[0][1], ranked

    def language(self, text: str) -> str:
        features = self.vectorizer.transform([text_normalize(text)])
        return str(self.languages.predict(features)[0])


def intent_model_train(examples: list[Example]) -> IntentModel:
    # On first use (see the top); threadpoolctl comes with scikit-learn.
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the problem is tiny, and threads fighting over two shared cores made the
    # same fit several times slower.
    with threadpool_limits(limits=1):
        vectorizer = _vectorizer()
        features = vectorizer.fit_transform([text_normalize(e.text) for e in examples])
        svm = LinearSVC(C=_C, tol=_TOLERANCE, random_state=0)
        intents = CalibratedClassifierCV(svm, cv=_CALIBRATION_FOLDS, method="temperature",
                                         ensemble=False).fit(features, [e.intent for e in examples])
        languages = LinearSVC(C=_C, tol=_TOLERANCE, random_state=0).fit(features, [e.language for e in examples])
    return IntentModel(vectorizer, intents, languages)


_model: IntentModel | None = None
_model_lock = threading.Lock()


def intent_model() -> IntentModel:
    """The process's model, trained on first use (one thread trains, the others wait for it)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = intent_model_train(intent_examples_load())
    return _model


def request_classify(text: str) -> tuple[str, float, Ranked]:
    """(intent, its probability, every intent with its probability, most likely first)."""
    return intent_model().classify(text)


def language_detect(text: str) -> str:
    """en, de, es or fr: whichever the request's letters are most like."""
    return intent_model().language(text)
