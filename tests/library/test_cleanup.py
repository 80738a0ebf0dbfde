"""Genre cleanup's rules (tagger/library/cleanup.py): the library overview, its groups and the per-file plans.

The rules are tested on FileGenres built from stored values (a dummy path: the overview and
the planner read no file), and reading on real generated files of each tag format.
"""

from pathlib import Path

import mutagen
import pytest
from mutagen.id3 import TCON
from support import tagfiles

from tagger.genres.vocabulary import save_user_alias, vocabulary
from tagger.library.cleanup import (
    CleanupRules,
    FileGenres,
    Flag,
    GenreOverview,
    Storage,
    Target,
    survey,
)
from tagger.tags import MultiValue, read_tags


def overview(*stored, separator="; "):
    """An overview of a library of one file per tuple of stored values, and those files."""
    view = GenreOverview(separator=separator)
    files = [FileGenres(Path(f"/library/{i:03}.flac"), tuple(values)) for i, values in enumerate(stored)]
    for file in files:
        view.add(file)
    return view, files


def plans(*stored, separator="; ", **rules):
    """Each file's planned values under ``rules``."""
    view, files = overview(*stored, separator=separator)
    planner = view.planner(CleanupRules(**rules))
    return [planner.plan(f).after for f in files]


def group_of(view, genre):
    """The one group that holds ``genre`` (matched by the vocabulary's key)."""
    key = vocabulary().key(genre)
    found = [g for g in view.groups() if vocabulary().key(g.name) == key]
    assert len(found) == 1, (genre, view.groups())
    return found[0]


UNKNOWN = "Grindhouse Shuffle"  # a made-up genre: no vocabulary knows it


def test_the_made_up_genre_is_unknown():
    # Several tests rely on it; if the vocabulary ever learns it, they would test nothing.
    assert not vocabulary().knows(UNKNOWN)
    assert not vocabulary().knows("AC") and not vocabulary().knows("DC")


# -- spelling ------------------------------------------------------------------------------------


def test_spelling_variants_become_the_librarys_most_common_spelling():
    stored = [("Hip Hop",), ("hip-hop",), ("HipHop",), ("Hip Hop ",), ("Hip Hop",)]
    assert plans(*stored) == [("Hip Hop",)] * 5
    view, _ = overview(*stored)
    (group,) = view.groups()
    assert group.name == "Hip Hop"
    assert group.files == 5
    assert group.variants == {"Hip Hop": 2, "hip-hop": 1, "HipHop": 1, "Hip Hop ": 1}
    assert group.canonical == "Hip-Hop" and group.family == "Hip-Hop"
    assert group.flags == frozenset()
    assert group.has_problem


def test_the_most_common_spelling_wins_over_the_canonical_one():
    # The library's own habit is kept unless --to canonical asks otherwise.
    assert plans(("hip-hop",), ("hip-hop",), ("Hip-Hop",), ("HIP HOP",)) == [("hip-hop",)] * 4


@pytest.mark.parametrize("first, second", [("rock", "Rock"), ("Rock", "rock"), ("hip hop", "Hip-Hop"),
                                           ("HIP-HOP", "Hip-Hop")])
def test_a_tie_goes_to_the_canonical_spelling(first, second):
    # Two spellings in one file each: whichever the library met first, the vocabulary's wins.
    canonical = vocabulary().canonical(first)
    assert canonical in (first, second)
    assert plans((first,), (second,)) == [(canonical,)] * 2


def test_a_tie_without_the_canonical_spelling_still_gives_one_spelling():
    result = plans(("hip hop",), ("HIP HOP",))
    assert result[0] == result[1] and result[0][0] in ("hip hop", "HIP HOP")


def test_to_canonical_uses_the_vocabularys_spelling_where_it_knows_the_genre():
    stored = [("Hip Hop",), ("Hip Hop",), ("hip-hop ",), ("dnb",), (UNKNOWN.lower(),), (UNKNOWN,), (UNKNOWN,)]
    assert plans(*stored, to=Target.CANONICAL) == [("Hip-Hop",)] * 3 + [("Drum and Bass",)] + [(UNKNOWN,)] * 3
    # The default keeps the library's spelling.
    assert plans(*stored)[:4] == [("Hip Hop",)] * 3 + [("dnb",)]


def test_a_stray_space_alone_is_a_change():
    assert plans(("Jazz ",), (" Jazz",), ("Jazz  Fusion",)) == [("Jazz",), ("Jazz",), ("Jazz Fusion",)]


def test_tidy_files_are_left_alone():
    view, files = overview(("Rock",), ("Jazz", "Blues"), ("Rock; Jazz",), ())
    planner = view.planner(CleanupRules())
    assert [planner.plan(f).changed for f in files] == [False] * 4


# -- joined values -------------------------------------------------------------------------------


@pytest.mark.parametrize("value, parts", [
    ("Rock/Pop", ("Rock", "Pop")),
    ("Jazz, Blues", ("Jazz", "Blues")),
    ("Rock | Pop", ("Rock", "Pop")),
    ("Rock \\ Pop", ("Rock", "Pop")),
    ("Rock/Pop/Jazz", ("Rock", "Pop", "Jazz")),
    ("hip hop/Rock", ("hip hop", "Rock")),  # the library's only spelling of Hip-Hop
])
def test_a_value_joined_from_known_genres_is_split(value, parts):
    assert plans((value,)) == [parts]
    # The parts take their group's spelling like any other value.
    assert plans((value,), ("Hip Hop",), ("Hip Hop",))[0] == tuple("Hip Hop" if p == "hip hop" else p for p in parts)
    view, _ = overview((value,))
    assert all(Flag.JOINED in group_of(view, p).flags for p in parts)
    assert view.storage_of((value,)) is Storage.SINGLE  # one value, not joined by the separator


def test_a_value_joined_by_another_separator_than_the_storage_one_is_split():
    # With " + " as the storage separator, "Rock; Electronic" is a joined value like "Rock/Pop".
    assert plans(("Rock; Electronic",), separator=" + ") == [("Rock", "Electronic")]


def test_a_value_joined_by_the_storage_separator_is_the_files_way_and_stays():
    # "Rock; Electronic" is how ID3v2.3 (and joined storage) holds two genres: no change.
    view, files = overview(("Rock; Electronic",), ("Rock;Blues",))
    assert [view.planner(CleanupRules()).plan(f).changed for f in files] == [False, False]
    assert not any(g.has_problem for g in view.groups())
    assert view.storage_of(files[0].stored) is Storage.JOINED
    assert Flag.JOINED not in group_of(view, "Electronic").flags
    assert group_of(view, "Rock").files == 2


@pytest.mark.parametrize("value", [
    "AC/DC",  # neither part is a genre
    "Drum & Bass",  # "&" joins words of one genre, never genres
    "Rhythm and Blues",
    "Singer / Songwriter",  # known as a whole
    f"Rock/{UNKNOWN}",  # one part unknown
    "Folk, World, & Country",
    "Instrumental/Live/Post-Metal/Post-Rock",
])
def test_a_value_whose_parts_are_not_all_known_stays_whole(value):
    assert plans((value,)) == [(value,)]
    view, _ = overview((value,))
    assert all(Flag.JOINED not in g.flags for g in view.groups())


def test_a_part_the_library_holds_on_its_own_counts_as_known():
    joined = f"Rock/{UNKNOWN}"
    assert plans((joined,), (UNKNOWN,)) == [("Rock", UNKNOWN), (UNKNOWN,)]
    view, _ = overview((joined,), (UNKNOWN,))
    group = group_of(view, UNKNOWN)
    assert group.files == 2 and group.variants == {joined: 1, UNKNOWN: 1}
    assert Flag.JOINED in group.flags and group.canonical is None and group.family is None


def test_no_split_keeps_joined_values():
    assert plans(("Rock/Pop",), ("Jazz, Blues",), split=False) == [("Rock/Pop",), ("Jazz, Blues",)]
    # A file rewritten for another reason keeps its joined value whole.
    stored = [("Rock/Pop", "hip-hop"), ("Hip Hop",), ("Hip Hop",)]
    assert plans(*stored, split=False)[0] == ("Rock/Pop", "Hip Hop")
    assert plans(*stored)[0] == ("Rock", "Pop", "Hip Hop")


# -- numeric codes -------------------------------------------------------------------------------


def test_numeric_codes_become_names_and_join_their_group():
    hip_hop = TCON.GENRES[7]
    stored = [("(7)",), ("17",), ("(17)Rock",), ("Rock",), (hip_hop,), ("(17)(6)",)]
    assert plans(*stored) == [(hip_hop,), ("Rock",), ("Rock",), ("Rock",), (hip_hop,), ("Rock", TCON.GENRES[6])]
    view, _ = overview(*stored)
    rock = group_of(view, "Rock")
    assert rock.files == 4
    assert rock.variants == {"17": 1, "(17)Rock": 1, "Rock": 1, "(17)(6)": 1}
    assert Flag.NUMERIC in rock.flags
    assert group_of(view, hip_hop).variants == {"(7)": 1, hip_hop: 1}


def test_a_numeric_code_for_a_junk_name_is_numeric_and_junk():
    view, _ = overview(("(12)",))  # ID3 genre 12 is "Other"
    (group,) = view.groups()
    assert group.name == "Other" and {Flag.NUMERIC, Flag.JUNK} <= group.flags


# -- junk ----------------------------------------------------------------------------------------


JUNK = ["Other", "Unknown", "genre", "", "http://example.com/genres", "www.example.com"]


def test_junk_is_kept_by_default():
    stored = [(j,) for j in JUNK] + [("Rock", "Other")]
    assert plans(*stored) == stored
    view, _ = overview(*stored)
    for value in JUNK:
        (group,) = [g for g in view.groups() if value in g.variants]
        assert Flag.JUNK in group.flags and group.canonical is None and group.family is None
    assert Flag.JUNK not in group_of(view, "Rock").flags


def test_drop_junk_removes_it():
    stored = [(j,) for j in JUNK] + [("Rock", "Other", "hip-hop", "Unknown")]
    assert plans(*stored, drop_junk=True) == [()] * len(JUNK) + [("Rock", "hip-hop")]


# -- near duplicates -----------------------------------------------------------------------------


def test_drum_and_bass_and_r_and_b_spellings_are_one_group_each():
    stored = [("Drum & Bass",), ("Drum and Bass",), ("drum'n'bass",), ("DnB",), ("R&B",), ("RnB",)]
    view, _ = overview(*stored)
    groups = {g.name: g for g in view.groups()}
    assert set(groups) == {"Drum and Bass", "R&B"}
    dnb = groups["Drum and Bass"]
    assert dnb.files == 4 and dnb.variants == {"Drum & Bass": 1, "Drum and Bass": 1, "drum'n'bass": 1, "DnB": 1}
    assert dnb.canonical == "Drum and Bass" and dnb.family == "Electronic"
    assert groups["R&B"].variants == {"R&B": 1, "RnB": 1} and groups["R&B"].canonical == "R&B"
    assert plans(*stored) == [("Drum and Bass",)] * 4 + [("R&B",)] * 2


def test_a_files_order_is_kept_and_duplicates_made_by_merging_are_dropped():
    # (DnB and Drum and Bass tie: the canonical spelling wins.)
    stored = [("Jazz", "Rock", "jazz", "ROCK ", "Blues"), ("Blues", "DnB", "Rock", "Drum and Bass", "(17)")]
    assert plans(*stored) == [("Jazz", "Rock", "Blues"), ("Blues", "Drum and Bass", "Rock")]


# -- how several genres are stored ---------------------------------------------------------------


def test_multi_value_joined_joins_with_the_separator():
    stored = [("Jazz", "Blues"), ("Jazz; Blues",), ("Rock",), ()]
    assert plans(*stored, multi_value=MultiValue.JOINED) == [("Jazz; Blues",), ("Jazz; Blues",), ("Rock",), ()]
    assert plans(("Jazz", "Blues"), separator=" | ", multi_value=MultiValue.JOINED) == [("Jazz | Blues",)]


def test_multi_value_separate_splits_joined_values():
    stored = [("Jazz; Blues",), ("Jazz", "Blues"), ("Rock",)]
    assert plans(*stored, multi_value=MultiValue.SEPARATE) == [("Jazz", "Blues"), ("Jazz", "Blues"), ("Rock",)]


def test_by_default_a_joined_file_stays_joined_when_it_changes():
    stored = [("hip-hop; Rock",), ("Hip Hop",), ("Hip Hop",)]
    assert plans(*stored)[0] == ("Hip Hop; Rock",)


# -- the overview --------------------------------------------------------------------------------


def test_a_file_with_two_variants_counts_once_for_the_group():
    view, _ = overview(("Hip Hop", "hip-hop"), ("Hip Hop",), ("Rock", "Rock"))
    hip_hop = group_of(view, "Hip Hop")
    assert hip_hop.files == 2
    assert hip_hop.variants == {"Hip Hop": 2, "hip-hop": 1}
    assert group_of(view, "Rock").variants == {"Rock": 1}  # a value repeated in a file counts once
    assert [g.name for g in view.groups()] == ["Hip Hop", "Rock"]  # most files first


def test_a_group_has_variants_exactly_where_normalise_stores_it_otherwise():
    stored = [("Jazz;Blues",), ("Jazz",), ("Rock; Pop",), ("hip-hop; Rock",), ("Hip Hop",), ("Hip Hop",),
              ("Soul ",), ("Funk", "funk"), ("Disco", "Disco"), ("Other", "other")]
    view, files = overview(*stored)
    untidy = {g.name: g.untidy_files for g in view.groups() if g.has_variants}
    # Joined by the storage separator is a file's way of holding several genres, not a variant: Jazz, Blues,
    # Rock and Pop are as normalise stores them, though "hip-hop; Rock" is rewritten for Hip Hop's sake.
    assert untidy == {"Hip Hop": 1, "Soul": 1, "Funk": 1, "Disco": 1, "Other": 1}
    assert all(not g.has_problem for g in view.groups() if g.name in ("Jazz", "Blues", "Rock", "Pop"))
    # Normalised, the library has no variants left, and normalise finds nothing more to do.
    planner = view.planner(CleanupRules())
    tidied, tidied_files = overview(*(planner.plan(f).after for f in files))
    assert [g.name for g in tidied.groups() if g.has_variants] == []
    assert not any(tidied.planner(CleanupRules()).plan(f).changed for f in tidied_files)


def test_untidy_names_the_groups_a_plan_rewrites_and_none_where_it_keeps_the_file():
    view, files = overview(("hip-hop; Rock",), ("Hip Hop",), ("Hip Hop",), ("Rock/Pop",), ("(17)",), ("Jazz;Blues",),
                           ("Rock", "Other"))
    key = vocabulary().key
    planner = view.planner(CleanupRules())
    assert [sorted(planner.untidy(f)) for f in files] == [
        [key("Hip Hop")], [], [], [key("Pop"), key("Rock")], [key("Rock")], [], []]
    assert [bool(planner.untidy(f)) for f in files] == [planner.plan(f).changed for f in files]
    # Junk dropped is a change for its group alone.
    assert view.planner(CleanupRules(drop_junk=True)).untidy(files[-1]) == {key("Other")}


def test_storage_styles():
    view, files = overview((), ("",), ("Rock",), ("Rock/Pop",), ("Rock", "Pop"), ("Rock; Pop",), ("Jazz; Blues",))
    assert [view.storage_of(f.stored) for f in files] == [
        Storage.NONE, Storage.NONE, Storage.SINGLE, Storage.SINGLE, Storage.SEPARATE, Storage.JOINED, Storage.JOINED]
    assert view.storage() == {Storage.NONE: 2, Storage.SINGLE: 2, Storage.SEPARATE: 1, Storage.JOINED: 2}
    assert view.files == 7 and view.problems == 0


def test_problem_files_are_counted_apart():
    view = GenreOverview()
    view.add(FileGenres(Path("/library/a.flac"), ("Rock",)))
    view.add(FileGenres(Path("/library/b.flac"), problem="the file does not parse cleanly"))
    assert (view.files, view.problems) == (1, 1)
    assert [g.files for g in view.groups()] == [1]


def test_a_file_added_later_changes_what_is_known():
    # Readings settle on the whole library: a later file can make a joined value split.
    view, files = overview((f"Rock/{UNKNOWN}",))
    assert view.planner(CleanupRules()).plan(files[0]).changed is False
    view.add(FileGenres(Path("/library/later.flac"), (UNKNOWN,)))
    assert view.planner(CleanupRules()).plan(files[0]).after == ("Rock", UNKNOWN)


# -- blank pieces and values ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["Rock; ", "Rock;"])
def test_a_trailing_separator_makes_no_empty_genre(value):
    # As read_genres reads it: the empty piece after a trailing separator is no genre, and
    # the plan (what --dry-run shows) must not list one.
    from tagger.tags.base import read_genres

    assert read_genres([value]) == ["Rock"]
    view, files = overview((value,))
    assert [g.name for g in view.groups()] == ["Rock"]
    assert "" not in view.planner(CleanupRules()).plan(files[0]).after


def test_blank_values_are_one_group():
    # An empty value and values of spaces all read as the genre "": one group, not one per spelling.
    view, _ = overview(("",), (" ",), ("  ",))
    assert [(g.name, g.files) for g in view.groups()] == [("", 3)]


# -- rename and user aliases ---------------------------------------------------------------------


def test_rename_in_any_spelling_or_alias():
    view, files = overview(("shoe-gaze",), ("Shoegaze", "Dream Pop"), ("Jazz",), ("DnB", "Rock"))
    planner = view.planner(CleanupRules())
    assert planner.rename(files[0], "Shoegaze", "Dream Pop").after == ("Dream Pop",)
    assert planner.rename(files[1], "Shoegaze", "Dream Pop").after == ("Dream Pop",)  # both: one is kept
    assert planner.rename(files[2], "Shoegaze", "Dream Pop").changed is False
    assert planner.rename(files[3], "Drum and Bass", "Jungle").after == ("Jungle", "Rock")


def test_a_user_alias_merges_groups_and_chooses_the_spelling():
    save_user_alias("Shoegaze", "dream pop")  # forgets the cached vocabulary itself
    view, _ = overview(("Shoegaze",), ("Dream Pop",), ("Dream Pop",))
    (group,) = view.groups()
    assert group.name == "dream pop" and group.files == 3
    assert plans(("Shoegaze",), ("Dream Pop",), ("Dream Pop",)) == [("dream pop",)] * 3


# -- reading real files (survey, read_tags) ------------------------------------------------------


def set_id3(path, values, version, encoding=1):
    """Store ``values`` as the TCON frame with mutagen, as another tagger would."""
    audio = mutagen.File(path)
    audio.tags.delall("TCON")
    audio.tags.add(TCON(encoding=encoding, text=values))
    audio.tags.save(path, v2_version=version, v1=0, v23_sep=None)


def surveyed(path, separator="; "):
    (file,) = survey([path], separator)
    assert file.problem is None, file.problem
    return file


def test_id3v23_joined_value_reads_at_the_separator(tmp_path):
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    set_id3(path, ["Rock; hip-hop; Jazz, Blues"], 3)
    tags = read_tags(path)
    assert tags.format == "MP3 (ID3v2.3)"
    assert tags.stored_genres == ["Rock; hip-hop; Jazz, Blues"]
    assert tags.genres == ["Rock", "hip-hop", "Jazz", "Blues"]
    file = surveyed(path)
    assert file.stored == ("Rock; hip-hop; Jazz, Blues",) and file.identity is not None
    view = GenreOverview()
    view.add(file)
    assert view.storage_of(file.stored) is Storage.JOINED


def test_id3v23_with_another_separator(tmp_path):
    # At the storage separator a value splits whether or not its parts are known.
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    set_id3(path, [f"Jazz / {UNKNOWN}"], 3)
    assert read_tags(path, " / ").genres == ["Jazz", UNKNOWN]
    assert read_tags(path).genres == [f"Jazz / {UNKNOWN}"]
    view = GenreOverview(separator=" / ")
    view.add(surveyed(path, " / "))
    assert {g.name for g in view.groups()} == {"Jazz", UNKNOWN}


def test_id3v24_several_values(tmp_path):
    path = tagfiles.make(tmp_path, "mp3-id3v24")
    set_id3(path, ["Rock", "rock ", "(17)", "Rock/Pop"], 4)
    tags = read_tags(path)
    assert tags.stored_genres == ["Rock", "rock ", "(17)", "Rock/Pop"]
    assert tags.genres == ["Rock", "Pop"]
    assert plans(tuple(tags.stored_genres)) == [("Rock", "Pop")]


def test_id3v1_only_file(tmp_path):
    path = tagfiles.make(tmp_path, "mp3-id3v1")
    tags = read_tags(path)
    assert tags.format == "MP3 (ID3v1)"
    assert tags.stored_genres == ["17"] and tags.genres == ["Rock"]
    assert tags.title == "v1 title"
    file = surveyed(path)
    view = GenreOverview()
    view.add(file)
    (group,) = view.groups()
    assert group.name == "Rock" and group.variants == {"17": 1} and Flag.NUMERIC in group.flags
    assert view.planner(CleanupRules()).plan(file).after == ("Rock",)


@pytest.mark.parametrize("kind", ["flac", "ogg-vorbis", "opus"])
def test_vorbis_several_genre_fields(tmp_path, kind):
    path = tagfiles.make(tmp_path, kind)
    audio = mutagen.File(path)
    del audio.tags["genre"]
    for value in ["Rock", "rock ", "(17)", "Jazz/Blues", "Other"]:
        audio.tags.append(("GENRE", value))
    audio.tags.append(("genre", "Hip Hop"))  # field names are case-insensitive
    audio.save()
    tags = read_tags(path)
    assert tags.stored_genres == ["Rock", "rock ", "(17)", "Jazz/Blues", "Other", "Hip Hop"]
    assert tags.genres == ["Rock", "Jazz", "Blues", "Other", "Hip Hop"]
    assert surveyed(path).stored == tuple(tags.stored_genres)


@pytest.mark.parametrize("kind", ["m4a-aac", "m4a-alac"])
def test_mp4_several_genre_items(tmp_path, kind):
    path = tagfiles.make(tmp_path, kind)
    assert read_tags(path).stored_genres == ["Rock", "ROCK"]
    audio = mutagen.File(path)
    audio.tags["\xa9gen"] = ["Hip Hop ", "hip-hop", "Jazz, Blues"]
    audio.save()
    tags = read_tags(path)
    assert tags.format == "MP4"
    assert tags.stored_genres == ["Hip Hop ", "hip-hop", "Jazz, Blues"]
    assert tags.genres == ["Hip Hop", "Jazz", "Blues"]


def put_gnre_atom(path, code):
    """Replace the file's ©gen atom with a numeric gnre atom (ID3 code + 1) and a comment
    atom of the same total size, so no parent atom or chunk offset changes. mutagen cannot
    write gnre itself."""
    import struct

    from mutagen.mp4 import MP4, Atoms

    audio = MP4(path)
    audio.tags["\xa9gen"] = ["x" * 30]  # a 54-byte atom: 8 + 16 + 30
    audio.save()
    with open(path, "rb") as f:
        ilst = Atoms(f).path(b"moov", b"udta", b"meta", b"ilst")[-1]
        genre = next(a for a in ilst.children if a.name == b"\xa9gen")
    assert genre.length == 54
    gnre = struct.pack(">I4sI4sII", 26, b"gnre", 18, b"data", 0, 0) + struct.pack(">H", code + 1)
    comment = struct.pack(">I4sI4sII", 28, b"\xa9cmt", 20, b"data", 1, 0) + b"abcd"
    data = bytearray(path.read_bytes())
    data[genre.offset:genre.offset + 54] = gnre + comment
    path.write_bytes(bytes(data))


def test_mp4_numeric_genre_atom_reads_as_the_genre(tmp_path):
    path = tagfiles.make(tmp_path, "m4a-aac")
    put_gnre_atom(path, 17)
    tags = read_tags(path)
    assert tags.genres == ["Rock"]
    assert mutagen.File(path).tags["\xa9cmt"] == ["abcd"]


def test_mp4_numeric_genre_atom_is_stored_as_the_name_mutagen_reads(tmp_path):
    # mutagen turns a gnre atom into a ©gen name as it loads the file: there is no code to flag,
    # and a write (an undo too) stores the name as ©gen text, which reads the same.
    path = tagfiles.make(tmp_path, "m4a-aac")
    put_gnre_atom(path, 17)
    assert read_tags(path).stored_genres == ["Rock"]


def test_asf_and_apev2_several_values(tmp_path):
    wma, wavpack = tagfiles.make(tmp_path, "wma"), tagfiles.make(tmp_path, "wavpack")
    for path, key in ((wma, "WM/Genre"), (wavpack, "Genre")):
        audio = mutagen.File(path)
        audio.tags[key] = ["hip-hop", "17", "Hip Hop "]
        audio.save()
        tags = read_tags(path)
        assert tags.stored_genres == ["hip-hop", "17", "Hip Hop "], path
        assert tags.genres == ["hip-hop", "Rock"], path


# -- audit additions (mutation testing of cleanup.py) ---------------------------------------------


def test_distinct_junk_values_stay_apart_and_spellings_of_one_fold():
    # Junk is kept by default: two different placeholders are two values, but two spellings of one
    # placeholder (and two blank values) fold into the first, like genres do.
    assert plans(("Other", "Unknown"), ("Other", "other"), ("", " ", "Other")) == [
        ("Other", "Unknown"), ("Other",), ("", "Other")]


def test_junk_is_kept_as_stored_even_with_stray_spaces():
    # Junk is not tidied: "Unknown " and a value of spaces stay byte for byte unless drop_junk.
    assert plans(("Unknown ",), ("  ",), ("Rock", "Other ")) == [("Unknown ",), ("  ",), ("Rock", "Other ")]
    assert plans(("Unknown ",), ("Rock", "Other "), drop_junk=True) == [(), ("Rock",)]


def test_a_joined_file_already_joined_as_asked_keeps_its_style():
    # multi_value=joined asks for what "Rock;Blues" already is: it is not respaced to "Rock; Blues".
    assert plans(("Rock;Blues",), ("Jazz",), multi_value=MultiValue.JOINED) == [("Rock;Blues",), ("Jazz",)]


def test_no_split_leaves_a_tidy_file_with_a_joined_value_alone():
    # Without split, "Rock/Pop" is one genre: the file reads as it is stored and is not rewritten.
    assert plans(("Rock/Pop;Jazz",), split=False) == [("Rock/Pop;Jazz",)]
    assert plans(("Rock/Pop;Jazz",)) == [("Rock; Pop; Jazz",)]


def test_plan_stores_the_genres_it_is_given():
    view, files = overview(("Rock",), ("Rock; Jazz",), ("Jazz", "Blues"))
    planner = view.planner(CleanupRules())
    assert planner.plan(files[0], ["Jazz", "Blues"]).after == ("Jazz", "Blues")
    assert planner.plan(files[1], ["Jazz", "Blues"]).after == ("Jazz; Blues",)  # the file's joined way
    assert planner.plan(files[2], ["Jazz", "Blues"]).changed is False


def test_a_user_renaming_a_genre_to_a_placeholder_makes_it_junk():
    # The group takes the person's spelling, "Misc": a junk name, with no canonical genre or family.
    save_user_alias(UNKNOWN, "Misc")
    view, _ = overview((UNKNOWN,), (UNKNOWN,))
    (group,) = view.groups()
    assert group.name == "Misc" and Flag.JUNK in group.flags
    assert group.canonical is None and group.family is None


def test_split_divides_the_asked_values_whatever_their_parts():
    view, files = overview(("AC/DC", f"Jazz/{UNKNOWN}"), ("Singer / Songwriter", "Singer"), ("Jazz",))
    planner = view.planner(CleanupRules())
    assert planner.split(files[0], ["AC/DC"]) == ["AC", "DC", f"Jazz/{UNKNOWN}"]  # only the value asked for
    # A value known as a whole splits too when asked, spacing tidied; a part already there is not repeated.
    assert planner.split(files[1], [" Singer /  Songwriter"]) == ["Singer", "Songwriter"]
    assert planner.split(files[2], ["AC/DC"]) is None  # a file without it


def test_survey_reports_a_missing_path_and_a_dangling_link_and_goes_on(tmp_path):
    real = tagfiles.make(tmp_path, "flac")
    dangling = tmp_path / "gone.flac"
    dangling.symlink_to(tmp_path / "nowhere.flac")
    missing = tmp_path / "missing"
    found = list(survey([missing, dangling, real]))
    assert [(f.path, f.problem) for f in found[:2]] == [
        (missing, "no such file or folder"), (dangling, "No such file or directory")]
    assert found[2].path == real and found[2].problem is None and found[2].identity is not None
    assert found[2].format == read_tags(real).format == "FLAC"
    assert len(found) == 3


def test_a_separator_of_spaces_splits_no_value():
    # --separator " " strips to no joiner at all: "Hip Hop" stays one genre and one value, as read_genres reads it.
    view, files = overview(("Hip Hop",), ("hip-hop",), ("Rock/Pop",), separator=" ")
    assert [view.storage_of(f.stored) for f in files] == [Storage.SINGLE] * 3
    assert [(g.name, g.files) for g in view.groups()] == [("Hip Hop", 2), ("Pop", 1), ("Rock", 1)]
    stored = [("Hip Hop",), ("hip-hop",), ("Rock/Pop",)]
    assert plans(*stored, separator=" ") == [("Hip Hop",), ("Hip Hop",), ("Rock", "Pop")]


def test_a_value_of_separators_alone_is_a_blank_value():
    # ";" holds no genre: it reads as the blank genre (junk), and like other junk it is kept as stored.
    view, files = overview((";",), ("; ",), ("Rock",))
    assert [(g.name, g.files, Flag.JUNK in g.flags) for g in view.groups()] == [("", 2, True), ("Rock", 1, False)]
    assert plans((";",), ("; ",)) == [(";",), ("; ",)]


def test_empty_pieces_are_not_tidy():
    # "Rock;" holds an empty piece after the separator: cleanup drops it, and "Rock;;Jazz" becomes "Rock; Jazz".
    assert plans(("Rock;",), ("Rock;;Jazz",)) == [("Rock",), ("Rock; Jazz",)]


def test_a_spelling_counts_the_files_of_every_combination_it_is_in_once_each():
    # hip-hop is in 3 files (3 different combinations), Hip Hop, met first, in 2 (one of them stores it twice).
    stored = [("Hip Hop", "Hip Hop "), ("Hip Hop",), ("hip-hop",), ("hip-hop", "Rock"), ("hip-hop", "Jazz")]
    view, _ = overview(*stored)
    assert group_of(view, "Hip Hop").name == "hip-hop"
    view, _ = overview(("Hip Hop", "Hip Hop "), ("hip-hop",), ("hip-hop",))
    assert group_of(view, "Hip Hop").name == "hip-hop"


def test_junk_flags_only_the_junk_genres_of_a_value():
    # "Rock; Other" holds a genre and junk: the junk group is flagged, Rock is not.
    view, _ = overview(("Rock; Other",))
    assert Flag.JUNK in group_of(view, "Other").flags
    assert Flag.JUNK not in group_of(view, "Rock").flags


def test_a_group_with_a_junk_spelling_is_flagged_though_its_name_is_not_junk():
    # "Unknown" is junk; "Un-known" is the same key but not in the junk list: the group still shows the junk.
    view, _ = overview(("Un-known",), ("Un-known",), ("Unknown",))
    (group,) = view.groups()
    assert group.name == "Un-known" and group.variants == {"Un-known": 2, "Unknown": 1}
    assert Flag.JUNK in group.flags


def test_every_problem_file_is_counted():
    view = GenreOverview()
    for name in ("a.flac", "b.flac", "c.flac"):
        view.add(FileGenres(Path("/library") / name, problem="the file does not parse cleanly"))
    view.add(FileGenres(Path("/library/d.flac"), ("Rock",)))
    assert (view.files, view.problems) == (1, 3)


def test_rename_reaches_a_genre_inside_a_joined_value():
    # "Rock/Pop" reads as Rock and Pop (both known), so renaming Rock renames that part.
    view, files = overview(("Rock/Pop",), ("Rock; Jazz",))
    planner = view.planner(CleanupRules())
    assert planner.rename(files[0], "Rock", "Metal").after == ("Metal", "Pop")
    assert planner.rename(files[1], "rock", "Metal").after == ("Metal; Jazz",)
    assert planner.merged(files[0], ["Pop", "Rock"], "Metal") == ["Metal"]


def test_a_large_library_is_read_by_worker_processes_in_scan_order(tmp_path, monkeypatch):
    import tagger.library.cleanup as cleanup

    for index, kind in enumerate(["flac", "ogg-vorbis", "mp3-id3v23", "m4a-aac", "mp3-id3v24", "opus", "wma"]):
        folder = tmp_path / "lib" / f"{index}"
        folder.mkdir(parents=True)
        tagfiles.make(folder, kind)
    (tmp_path / "lib" / "9").mkdir()
    (tmp_path / "lib" / "9" / "broken.mp3").write_bytes(b"not audio")
    sequential = list(cleanup.survey([tmp_path / "lib"], workers=1))
    # As if the library were large: four files a task, two workers, from the third file on.
    monkeypatch.setattr(cleanup, "PARALLEL_FROM", 3)
    monkeypatch.setattr(cleanup, "CHUNK", 4)
    parallel = list(cleanup.survey([tmp_path / "lib"], workers=2))
    assert parallel == sequential
    assert len(parallel) == 8 and parallel[-1].problem and all(f.problem is None for f in parallel[:-1])
