"""The base of every error that should reach a user as one clear line.

Library code raises subclasses; the CLI (and the web layer) turn them into a
message and an exit code at the boundary, never a traceback.
"""


class UserError(Exception):
    """An error caused by input or environment, explained in `str(self)`."""

    exit_code = 2
