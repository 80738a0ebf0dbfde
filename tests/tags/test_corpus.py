"""Every file of ../shared/fixtures/tagged: read, write two genres, read back, check nothing else moved.

"Nothing else" is judged on raw bytes (``tagfiles.raw_tags``): ID3v2 frames as stored,
the ID3v1 block, APEv2 items, Vorbis fields and FLAC blocks, MP4 atoms, ASF attributes.

Runs on copies, never on the originals. Select it alone with ``pytest -m corpus -s``
to see the counts by format.
"""

import hashlib
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from support import tagfiles
from support.paths import SHARED

from tagger.audio.decode import MPEG_SUFFIXES, AudioError
from tagger.tags import TagError, UnsupportedFile, read_tags
from tagger.writing.journal import Journal
from tagger.writing.probe import mpeg_audio_bytes
from tagger.writing.writer import GenreWriter, WriteRequest

CORPUS = SHARED / "fixtures" / "tagged"
GENRES = ["Genre Tagger", "Corpus Test"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")


def audio_of(path: Path) -> bytes | np.ndarray | None:
    """All the audio, decoded (MPEG audio as a digest of its bytes); None if none decodes.

    Audio that did not decode before a write is not compared: rewriting a damaged
    tag can make such a file decodable, which is no loss.
    """
    if path.suffix.lower() in MPEG_SUFFIXES:
        return mpeg_audio_bytes(path)
    try:
        audio = tagfiles.decoded_audio(path)
    except AudioError:
        return None
    return audio if len(audio) else None


def check_file(source: Path, work: Path, writer: GenreWriter) -> tuple[str, str]:
    """Returns (outcome, detail); raises AssertionError when a write harmed the file."""
    copy = work / ("copy" + "".join(source.suffixes[-1:]))
    shutil.copyfile(source, copy)
    before_hash = sha(copy)
    try:
        before = read_tags(copy)
    except TagError as e:
        (result,) = writer.write([WriteRequest(copy, GENRES)], "corpus")
        assert result.status == "error", f"{source}: written although unreadable"
        assert sha(copy) == before_hash, f"{source}: changed although refused"
        return ("unsupported" if isinstance(e, UnsupportedFile) else "broken"), str(e)
    other_before = tagfiles.raw_tags(copy)
    audio_before = audio_of(copy)
    (result,) = writer.write([WriteRequest(copy, GENRES)], "corpus")
    if result.status == "error":
        assert sha(copy) == before_hash, f"{source}: changed although the write failed"
        return "refused", result.message
    after = read_tags(copy)
    assert after.genres == GENRES, f"{source}: read back {after.genres}"
    assert (after.title, after.artist, after.album) == (before.title, before.artist, before.album), source
    other_after = tagfiles.raw_tags(copy)
    if (result.message or "").startswith("ID3v1"):  # a new ID3v2.3 tag holds the v1 fields beside the v1 tag
        other_after.pop("id3v2", None)
    if "vorbis" not in other_before and other_after.get("vorbis", (None, []))[1] == []:
        other_after.pop("vorbis", None)  # a new comment block, with nothing in it but its vendor string
    changed = sorted(k for k in {*other_before, *other_after} if other_before.get(k) != other_after.get(k))
    assert not changed, f"{source}: other tags changed ({', '.join(changed)})"
    if audio_before is not None:
        audio_after = audio_of(copy)
        same = (audio_before == audio_after if isinstance(audio_before, bytes)
                else audio_after is not None and np.array_equal(audio_before, audio_after))
        assert same, f"{source}: audio changed"
    return "ok", ""


@pytest.mark.shared
@pytest.mark.corpus
def test_tag_library_corpus(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    writer = GenreWriter(journal)
    counts: Counter = Counter()
    reasons: Counter = Counter()
    failures = []
    files = corpus_files()
    for index, source in enumerate(files):
        work = tmp_path / f"f{index}"
        work.mkdir()
        try:
            outcome, detail = check_file(source, work, writer)
            if outcome == "refused":
                reasons[re.sub(r"\(.*\)|\[.*\]", "(…)", detail)] += 1
        except AssertionError as e:
            failures.append(str(e))
            outcome = "FAILED"
        counts[(source.suffix.lower() or "(none)", outcome)] += 1
        shutil.rmtree(work)
    journal.close()
    formats = sorted({fmt for fmt, _ in counts})
    outcomes = ["ok", "unsupported", "broken", "refused", "FAILED"]
    print(f"\n{len(files)} files from {CORPUS}")
    print(f"{'format':<10}" + "".join(f"{o:>12}" for o in outcomes))
    for fmt in formats:
        print(f"{fmt:<10}" + "".join(f"{counts[(fmt, o)]:>12}" for o in outcomes))
    print(f"{'total':<10}" + "".join(f"{sum(n for (f, o), n in counts.items() if o == oc):>12}" for oc in outcomes))
    print("refused by the writer's checks, by reason:")
    for reason, n in reasons.most_common():
        print(f"{n:>5}  {reason}")
    for failure in failures:
        print("FAILED:", failure)
    assert not failures, "\n".join(failures[:20])
    assert len(files) == 891
