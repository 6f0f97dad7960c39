#!/usr/bin/env python
"""Django's manage.py; ``govserve`` is the same command with a friendlier name."""

from govserve.cli import main

if __name__ == "__main__":
    main()
