"""Write use-cases of conversations, split by use-case:

- `threads`: conversations and messages (ingest from channels, outbound records)
- `drafts`: creating drafts (the assistant's output) and superseding old ones
- `approvals`: agents' decisions on drafts and the send bookkeeping
- `triage`: what an inbound email is (customer, auto-reply, bounce, spam, privacy request), recorded and overruled
"""
