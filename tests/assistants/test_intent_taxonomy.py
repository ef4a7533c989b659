from assistants.intents import INTENTS
from conversations.models import DRAFT_INTENTS


def test_the_admin_filters_by_exactly_the_intents_the_assistant_classifies_into():
    # conversations may not import assistants, so the list lives twice; this keeps the two equal.
    assert set(INTENTS) == set(DRAFT_INTENTS)
