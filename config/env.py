"""Read govserve's settings from the environment (twelve-factor).

Only ``config.settings`` calls these, once, at settings import. Application
code reads ``django.conf.settings`` at call time, never the environment.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    """Return the variable ``name``, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    """Return the variable ``name`` as a boolean; raise on anything but yes/no words."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    msg = f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    raise ImproperlyConfigured(msg)


def env_int(name: str, default: int) -> int:
    """Return the variable ``name`` as an integer; raise with the variable's name if it is not one."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        msg = f"{name} must be a whole number; got {raw!r}"
        raise ImproperlyConfigured(msg) from error


def env_list(name: str, default: list[str]) -> list[str]:
    """Return the comma-separated variable ``name`` as a list, without blanks."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]
