"""Field types shared by request bodies."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

# Instants are kept and returned in UTC whatever offset they arrived with.
Instant = Annotated[AwareDatetime, AfterValidator(lambda v: v.astimezone(UTC))]
