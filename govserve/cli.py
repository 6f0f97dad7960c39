"""``govserve``: the one command for operators.

Every verb is a Django management command (``govserve check``, ``govserve
publish``, ``govserve worker``, ``govserve audit verify`` ...), and Django's
own commands pass straight through (``govserve migrate``). The settings module
defaults to ``config.settings.local``; production sets
``DJANGO_SETTINGS_MODULE=config.settings.production``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run the ``govserve`` command line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    arguments = list(sys.argv if argv is None else argv)
    arguments[0] = "govserve"
    if arguments[1:2] == ["check"]:
        # Checking definition files needs no Django (and no database): answer before setting it up.
        from govserve.catalogue.definitions.command import fast_check  # noqa: PLC0415

        status = fast_check(arguments[2:])
        if status is not None:
            sys.exit(status)
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    execute_from_command_line(arguments)


if __name__ == "__main__":
    main()
