"""The reasons triage gives, as agents read them in the Triaged emails list: plain words, no header
names or RFC numbers (the label is the machine-readable part). A privacy reason starts with its kind
and ":", which Ops' privacy list reads (conversations/admin_triage.py)."""

from __future__ import annotations

OUT_OF_OFFICE = "Automatic reply (out of office)"
BULK_MAIL = "Bulk mail: a newsletter or mailing list, not written to us"
AUTOMATIC_MESSAGE = "Automatic message: sent by a program, not written by a person"
AUTO_SUBMITTED = {"auto-replied": OUT_OF_OFFICE, "auto-generated": AUTOMATIC_MESSAGE}
RETURNED_REPORT = "Returned mail: the mail system reports that an email could not be delivered"
ERASURE_REQUEST = "Erasure request"
ACCESS_REQUEST = "Data access request"
