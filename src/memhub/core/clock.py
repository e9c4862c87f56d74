"""The real clock (tests may pass any object with ``now()``)."""

from __future__ import annotations

from datetime import datetime, timezone


class SystemClock:
    """Timezone-aware UTC wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)
