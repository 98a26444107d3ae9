"""The offline stages: the batch contract of DESIGN.md and the evaluation on labelled
threads. Both drive triage and replies as the runner does online, so they sit above
both layers."""
