"""`python -m bot`, kept for old Procfiles and release steps: hands over to `chorus bot` (config.bot_main),
where the process is wired like every other. A process hand-off, not an import: the adapter stays free of
config's wiring (see the import contracts in pyproject.toml)."""
from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    os.execv(sys.executable, [sys.executable, "-m", "config.bot_main", *sys.argv[1:]])
