"""Click options and Settings for every ``memhub`` command module (``commands.py``, ``ops.py``,
``backup.py``), kept apart from ``commands.py`` because it imports those modules to register them.

Every option that sets a :class:`~memhub.settings.Settings` field takes its help text from that field's
description, so ``--help`` and the settings documentation cannot drift apart.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError

from memhub.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def setting_option(*decls: str, field: str, **kwargs: Any) -> Callable[[F], F]:
    """A click option for the Settings field ``field``, documented by that field's description."""
    description = Settings.model_fields[field].description or ""
    kwargs.setdefault("default", None)
    return click.option(*decls, field, help=f"{description} [env: MEMHUB_{field.upper()}]", **kwargs)


def choices(field: str) -> click.Choice[str]:
    """The values of a ``Literal`` setting, as a click choice."""
    annotation = Settings.model_fields[field].annotation
    return click.Choice([str(v) for v in typing.get_args(annotation)])


def build_settings(options: dict[str, Any]) -> Settings:
    """Settings from the environment, overridden by the options the user actually gave."""
    given = {k: v for k, v in options.items() if v is not None and v != ()}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            if e["loc"]
            else e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise click.UsageError(f"invalid settings: {problems}") from None
    except SettingsError as exc:  # an environment variable that could not be parsed at all
        raise click.UsageError(f"invalid settings: {exc}") from None


def store_options(command: F) -> F:
    """``--data`` and ``--database-url``: where the store is (for commands that open it)."""
    command = setting_option("--database-url", field="database_url", metavar="URL")(command)
    return setting_option("--data", field="data", type=click.Path(path_type=Path), metavar="DIR")(command)
