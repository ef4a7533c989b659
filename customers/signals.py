"""Signals of the customers app: how apps it must not import take part in its writes.

`customer_erased` is sent inside `customer_erase`'s transaction, once the domain rows are blanked,
with `conversation_ids` (the erased customer's conversations). A receiver blanks its own rows in
the same transaction, so the erasure commits everywhere or nowhere, and returns its counts (rows
per table) for the erasure's report. Receivers:
- assistants.erasure.model_runs_erase (connected in AssistantsConfig.ready): the model runs'
  sources, evaluation and errors.
"""

from django.dispatch import Signal

customer_erased = Signal()
