"""Every conversation scenario in tests/transcripts/, replayed through the service on both databases."""
from pathlib import Path

import pytest

from tests.transcript import Runner, parse

FILES = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(db, now, path):
    Runner(db, parse(path), now).run()
