"""The error for bad user input: the command line prints its one-line message and exits with code 2."""


class InputError(Exception):
    """Bad input from a user: a file, a field, an option. The message names it and what was expected."""
