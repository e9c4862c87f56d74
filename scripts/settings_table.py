"""Print the README's settings table from ``memhub.settings.Settings`` (paste it under "## Settings").

``tests/test_readme.py`` fails when the README's table and this output differ, so the table can't rot.
"""

from __future__ import annotations

from memhub.settings import Settings


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
        shown = "" if default is None else f"`{default}`"
        rows.append(f"| `MEMHUB_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
