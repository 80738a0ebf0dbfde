"""Context: album mates, the artist's other albums and genre-named folders as evidence."""

from pathlib import Path

import pytest

from tagger.genres.suggestion import GenreSuggestion, Source
from tagger.library.context import (
    ContextFile,
    ContextIndex,
    Evidence,
    artist_key,
    combine,
    folder_genres,
)


def file(path, genres=(), album=None, artist=None):
    return ContextFile(Path(path), tuple(genres), album, artist)


def audio(*pairs, source=Source.BASE):
    return [GenreSuggestion(g, g, c, source) for g, c in pairs]


def test_an_untagged_track_on_a_jazz_album_is_offered_jazz_first():
    index = ContextIndex([
        file("/m/a/1.flac", ["Jazz"], "a"), file("/m/a/2.flac", ["Jazz"], "a"), file("/m/a/3.flac", [], "a"),
        file("/m/b/1.flac", ["Rock"], "b"), file("/m/b/2.flac", ["Rock"], "b"),
    ])
    ranked = index.combine(Path("/m/a/3.flac"), audio(("Dark Ambient", 0.7), ("Rock", 0.2)))
    assert ranked[0].genre == "Jazz" and ranked[0].source == Source.ALBUM
    assert dict(ranked[0].evidence) == {Source.ALBUM: pytest.approx(index.reliability[Source.ALBUM])}
    # The audio's genres stay, with what the audio gave them.
    assert {g.genre for g in ranked} == {"Jazz", "Dark Ambient", "Rock"}
    assert next(g for g in ranked if g.genre == "Dark Ambient").confidence == pytest.approx(0.7)


def test_a_file_is_never_its_own_evidence():
    index = ContextIndex([file("/m/a/1.flac", ["Jazz"], "a", "miles"), file("/m/a/2.flac", [], "a", "miles")])
    assert not index.evidence(Path("/m/a/1.flac"))
    assert index.evidence(Path("/m/a/2.flac")).shares == {Source.ALBUM: {"jazz": 1.0}}


def test_evidence_and_audio_agreeing_rise_above_either():
    index = ContextIndex([file("/m/a/1.flac", ["Jazz"], "a"), file("/m/a/2.flac", [], "a")])
    (jazz,) = index.combine(Path("/m/a/2.flac"), audio(("Jazz", 0.6), source=Source.LEARNED))
    r = index.reliability[Source.ALBUM]
    assert jazz.confidence == pytest.approx(1 - (1 - 0.6) * (1 - r))
    assert jazz.confidence > max(0.6, r)


def test_reliability_is_measured_on_the_library_and_pulled_toward_the_prior():
    agreeing = ContextIndex([file(f"/m/{a}/{i}.flac", [g], a) for a, g in (("a", "Jazz"), ("b", "Rock"))
                             for i in range(10)])
    mixed = ContextIndex([file(f"/m/{a}/{i}.flac", ["Jazz" if i % 2 else "Rock"], a) for a in "ab"
                          for i in range(10)])
    nothing = ContextIndex([file("/m/x.flac", ["Jazz"])])
    assert agreeing.reliability[Source.ALBUM] > 0.95
    assert 0.4 < mixed.reliability[Source.ALBUM] < 0.55  # mates agree 4 times in 9, pulled a little toward 0.8
    assert nothing.reliability[Source.ALBUM] == pytest.approx(0.8)  # no album to measure: the prior


def test_artist_evidence_comes_from_other_albums_only():
    index = ContextIndex([
        file("/m/a/1.flac", ["Jazz"], "a", "miles"), file("/m/a/2.flac", [], "a", "miles"),
        file("/m/b/1.flac", ["Fusion"], "b", "miles"),
    ])
    shares = index.evidence(Path("/m/a/2.flac")).shares
    assert shares[Source.ALBUM] == {"jazz": 1.0} and shares[Source.ARTIST] == {"fusion": 1.0}


@pytest.mark.parametrize("name, key", [
    ("Unknown", None), ("Various Artists", None), ("https://example.com/band", None), ("", None),
    ("  Miles   Davis ", "miles davis"),
])
def test_placeholder_and_url_artists_credit_no_one(name, key):
    assert artist_key(name) == key


def test_genre_named_folders_count_and_folders_that_merely_contain_a_genre_word_do_not():
    assert folder_genres(Path("/home/me/Music/Jazz/Kind of Blue/01.flac")) == ["jazz"]
    assert folder_genres(Path("/music/Soundtracks/Game/01.ogg")) == ["soundtrack"]
    assert folder_genres(Path("/music/Rocky Horror/01.ogg")) == []
    assert folder_genres(Path("/music/Strategy Game/x/01.ogg")) == []
    assert folder_genres(Path("/music/Strategy Game/x/01.ogg"), {"strategygame"}) == ["strategygame"]


def test_the_library_own_genres_name_folders_in_the_library_spelling():
    index = ContextIndex([file("/m/Strategy Game/a/1.ogg", ["Strategy Game"]), file("/m/Strategy Game/b/2.ogg")])
    (top,) = index.combine(Path("/m/Strategy Game/b/2.ogg"), [])
    assert (top.genre, top.source) == ("Strategy Game", Source.FOLDER)


def test_without_evidence_the_audio_speaks_alone():
    suggestions = audio(("Rock", 0.9))
    assert combine(suggestions, Evidence(), {}) == suggestions


def test_a_compilation_in_one_folder_is_one_album_for_its_tracks(tmp_path):
    from tagger.tags import TagSnapshot

    folder = tmp_path / "OST"
    folder.mkdir()
    entries = [(folder / f"{i}.ogg", TagSnapshot("test", ["Score"] if i < 2 else [], artist=f"Composer {i}",
                                                 album="The Game OST")) for i in range(3)]
    index = ContextIndex.of(entries)
    assert index.evidence(folder / "2.ogg").shares[Source.ALBUM] == {"score": 1.0}


def test_junk_genres_are_no_evidence():
    index = ContextIndex([file("/m/a/1.flac", ["Unknown"], "a"), file("/m/a/2.flac", [], "a")])
    assert not index.evidence(Path("/m/a/2.flac"))
