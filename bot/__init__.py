"""triagebot: a support-triage bot for developer communities on Discourse."""

__version__ = "0.1.0"
