"""Albums: grouping files, the folder-as-album rule, and consensus between tracks."""

from pathlib import Path

import pytest

from tagger.genres.suggestion import GenreSuggestion, Source
from tagger.library.albums import (
    MAX_FOLDER_ALBUM_FILES,
    AlbumGrouper,
    Track,
    consensus,
    folder_is_album,
)
from tagger.tags import TagSnapshot


def tags(album=None, artist=None, album_artist=None, genres=()):
    return TagSnapshot("test", list(genres), artist=artist, album_artist=album_artist, album=album)


def touch(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / n for n in names]
    for p in paths:
        p.write_bytes(b"")
    return paths


def test_album_tags_group_by_album_artist_else_by_folder(tmp_path):
    grouper = AlbumGrouper()
    a = grouper.album_of(tmp_path / "1.mp3", tags("Kind of Blue", artist="Miles Davis"))
    b = grouper.album_of(tmp_path / "2.mp3", tags("kind of  blue", artist="MILES DAVIS"))
    # A soundtrack by several composers with no album artist: one album, held by its folder.
    c = grouper.album_of(tmp_path / "3.mp3", tags("Kind of Blue", artist="Someone Else"))
    elsewhere = grouper.album_of(tmp_path / "x" / "4.mp3", tags("Kind of Blue", artist="Miles Davis"))
    disc_two = grouper.album_of(tmp_path / "CD2" / "5.mp3", tags("Kind of Blue", artist="Miles Davis"))
    # On a compilation the album artist holds the tracks together whatever their artists and folders.
    d = grouper.album_of(tmp_path / "4.mp3", tags("Hits", artist="One", album_artist="Various Artists"))
    e = grouper.album_of(tmp_path / "y" / "5.mp3", tags("Hits", artist="Two", album_artist="Various Artists"))
    assert a[0] == b[0] == c[0] == disc_two[0] != elsewhere[0]
    assert d[0] == e[0] and d[1] == "Various Artists – Hits"
    assert a[1] == "Miles Davis – Kind of Blue"


def test_an_untagged_folder_is_an_album_only_when_it_looks_like_one(tmp_path):
    album = touch(tmp_path / "album", "01.flac", "02.flac", "cover.jpg")
    collection = touch(tmp_path / "dump", *(f"{i}.mp3" for i in range(MAX_FOLDER_ALBUM_FILES + 1)))
    parent = touch(tmp_path / "box", "intro.mp3")
    touch(tmp_path / "box" / "cd1", "01.mp3")
    grouper = AlbumGrouper()
    first, second = (grouper.album_of(p, tags()) for p in album[:2])
    assert first is not None and first == second and first[1] == "album/"
    assert grouper.album_of(collection[0], tags()) is None  # a flat folder of many files
    assert grouper.album_of(parent[0], None) is None  # audio below it: a box or an artist folder
    assert folder_is_album(tmp_path / "box" / "cd1")
    assert not folder_is_album(tmp_path / "missing")
    # A file with an album tag is grouped by its tags, never by its folder.
    assert grouper.album_of(album[0], tags("Real Album"))[0] != first[0]


def test_exactly_the_limit_is_still_an_album(tmp_path):
    files = touch(tmp_path / "long", *(f"{i}.ogg" for i in range(MAX_FOLDER_ALBUM_FILES)))
    assert AlbumGrouper().album_of(files[0], None) is not None


def suggestion(genre, confidence, source=Source.LEARNED):
    return GenreSuggestion(genre, genre, confidence, source)


def test_an_untagged_track_on_a_jazz_album_is_offered_jazz_first():
    tracks = [Track(Path(f"/a/{i}.mp3"), [suggestion("Jazz", 0.5), suggestion("Rock", 0.3)], ["Jazz"])
              for i in range(3)]
    newcomer = Track(Path("/a/new.mp3"), [suggestion("Rock", 0.55), suggestion("Jazz", 0.3)])
    album = consensus("k", "A", [*tracks, newcomer])
    advice = album.tracks[3]
    assert [g.genre for g in advice.genres[:2]] == ["Jazz", "Rock"]
    assert advice.pull == pytest.approx(0.9) and not advice.disagrees
    assert album.genres[0].genre == "Jazz" and album.genres[0].confidence > 0.8
    assert [t.path for t in album.tracks] == [t.path for t in [*tracks, newcomer]]  # in the order given


def test_tags_alone_vouch_for_a_genre_the_models_never_named():
    tracks = [Track(Path("/a/1.mp3"), [], ["Dark Ambient"]), Track(Path("/a/2.mp3"), [], ["dark-ambient"]),
              Track(Path("/a/3.mp3"), [suggestion("Ambient", 0.6, Source.BASE)])]
    album = consensus("k", "A", tracks)
    assert album.genres[0].genre == "Dark Ambient" and album.genres[0].source == Source.ALBUM
    assert album.tracks[2].genres[0].genre == "Dark Ambient"
    assert [t.pull for t in album.tracks[:2]] == [0.0, 0.0]  # nothing of their own to move


def test_a_track_whose_audio_strongly_disagrees_keeps_its_own():
    rock = [Track(Path(f"/c/{i}.mp3"), [suggestion("Rock", 0.8), suggestion("Pop", 0.1)]) for i in range(5)]
    remix = Track(Path("/c/remix.mp3"), [suggestion("Techno", 0.95), suggestion("Rock", 0.02)])
    album = consensus("k", "C", [*rock, remix])
    advice = album.tracks[-1]
    assert advice.disagrees and advice.pull == 0.0
    assert [(g.genre, g.confidence) for g in advice.genres[:2]] == [("Techno", 0.95), ("Rock", 0.02)]
    assert all(not t.disagrees for t in album.tracks[:-1])


def test_on_an_album_the_person_tagged_their_tags_outweigh_one_sure_analysis():
    tagged = [Track(Path(f"/t/{i}.mp3"), [suggestion("Ambient", 0.6)], ["Ambient"]) for i in range(3)]
    odd = Track(Path("/t/odd.mp3"), [suggestion("Techno", 0.96), suggestion("Ambient", 0.02)])
    advice = consensus("k", "T", [*tagged, odd]).tracks[-1]
    assert not advice.disagrees and advice.pull == pytest.approx(0.9)
    assert [g.genre for g in advice.genres[:2]] == ["Ambient", "Techno"]  # its own still shown, second


def test_albums_whose_tracks_disagree_give_both_genres():
    tracks = [Track(Path("/d/1.mp3"), [suggestion("Rock", 0.7)], ["Rock"]),
              Track(Path("/d/2.mp3"), [suggestion("Jazz", 0.7)], ["Jazz"])]
    album = consensus("k", "D", tracks)
    assert {g.genre for g in album.genres[:2]} == {"Rock", "Jazz"}
    assert album.genres[0].confidence == pytest.approx(album.genres[1].confidence)
    # Each track hears only the other: pulled toward the other's genre, but not past its own tag-free audio.
    assert album.tracks[0].genres[0].genre in {"Rock", "Jazz"}
    assert album.votes["/d/1.mp3"] == {"Rock": 3.7}


def test_a_lone_track_and_junk_tags_change_nothing():
    own = [suggestion("Folk", 0.6), suggestion("Country", 0.2)]
    album = consensus("k", "E", [Track(Path("/e/1.mp3"), own, ["Unknown", ""])])
    assert album.tracks[0].genres == own and album.tracks[0].pull == 0.0
    assert [g.genre for g in album.genres] == ["Folk", "Country"]


def test_a_tag_and_a_suggestion_in_aliases_of_one_genre_vote_together():
    tracks = [Track(Path("/d/1.mp3"), [], ["DnB"]), Track(Path("/d/2.mp3"), [], ["drum'n'bass"]),
              Track(Path("/d/3.mp3"), [suggestion("Drum and Bass", 0.5), suggestion("Techno", 0.45)])]
    album = consensus("d", "D", tracks)
    # One genre, shown as the analysis names it, well ahead of Techno: the tags count for it.
    assert [g.genre for g in album.genres][:2] == ["Drum and Bass", "Techno"]
    assert len(album.genres) == 2 and album.genres[0].confidence > 2 * album.genres[1].confidence
