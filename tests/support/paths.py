"""Where the tests find the checkout and ../shared (real music and tag fixtures)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"
SHARED = REPO.parent / "shared"
SHARED_MUSIC = SHARED / "music"
