"""How well the intent model does on requests it was not trained on (`manage.py intent_report`).

The labelled examples are split once, 80/20, stratified by intent and language with a fixed
seed, so two runs on the same examples print the same table and a change to the examples or the
model shows as a change in it. The model is trained on the 80% exactly as in production
(classifier.intent_model_train) and scored on the 20%.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistants import classifier
from assistants.intents import intent_for_draft

SPLIT_SEED = 20261201
HELD_OUT = 0.2


@dataclass(frozen=True)
class Scores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int
    accuracy: float | None = None


@dataclass
class Evaluation:
    trained_on: int
    held_out: int
    accuracy: float
    draft_accuracy: float  # after mapping onto the drafter's six intents
    intents: list[Scores] = field(default_factory=list)
    languages: list[Scores] = field(default_factory=list)
    macro: Scores | None = None
    errors: list[tuple[classifier.Example, str, float]] = field(default_factory=list)


def _scores(label: str, truth: list[str], predicted: list[str]) -> Scores:
    from sklearn.metrics import precision_recall_fscore_support  # scikit-learn is heavy: loaded on use

    labels = sorted(set(truth))
    precision, recall, f1, _ = precision_recall_fscore_support(truth, predicted, labels=labels, average="macro",
                                                               zero_division=0)
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    return Scores(label, float(precision), float(recall), float(f1), len(truth), accuracy)


def intent_model_evaluate(*, seed: int = SPLIT_SEED, held_out: float = HELD_OUT) -> Evaluation:
    from sklearn.metrics import precision_recall_fscore_support  # scikit-learn is heavy: loaded on use
    from sklearn.model_selection import train_test_split

    examples = classifier.intent_examples_load()
    train, test = train_test_split(examples, test_size=held_out, random_state=seed,
                                   stratify=[f"{e.intent}/{e.language}" for e in examples])
    model = classifier.intent_model_train(train)
    answers = [model.classify(e.text) for e in test]
    truth = [e.intent for e in test]
    predicted = [intent for intent, _, _ in answers]
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=list(classifier.INTENTS),
                                                                     zero_division=0)
    evaluation = Evaluation(
        trained_on=len(train), held_out=len(test),
        accuracy=sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(test),
        draft_accuracy=sum(intent_for_draft(t) == intent_for_draft(p)
                           for t, p in zip(truth, predicted, strict=True)) / len(test),
        intents=[Scores(intent, float(p), float(r), float(f), int(n))
                 for intent, p, r, f, n in zip(classifier.INTENTS, precision, recall, f1, support, strict=True)],
        macro=_scores("macro avg", truth, predicted),
        errors=[(e, intent, probability) for e, (intent, probability, _) in zip(test, answers, strict=True)
                if intent != e.intent],
    )
    for language in classifier.LANGUAGES:
        rows = [i for i, e in enumerate(test) if e.language == language]
        if rows:
            evaluation.languages.append(_scores(language, [truth[i] for i in rows], [predicted[i] for i in rows]))
    return evaluation
