"""The running bot: watch the forum, decide each post once, act exactly once.

Modules: policy (may we answer?), pipeline (one post end to end), intents
(write-ahead forum writes and crash reconciliation), poller (cursor and gaps),
clusters (grouping unknown errors), followups (status-change notes), queues
(staff actions shared by the CLI and the dashboard), services (the wiring).
"""
