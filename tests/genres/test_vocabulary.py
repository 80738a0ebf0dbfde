import sys

import pytest

from tagger.genres.taxonomy import Taxonomy
from tagger.genres.vocabulary import (
    Vocabulary,
    completion_names,
    genre_key,
    is_junk,
    preferred_spellings,
    read_user_aliases,
    save_user_alias,
    take_back_alias,
    user_aliases_path,
    vocabulary,
)


@pytest.mark.parametrize("spellings", [
    ["Hip-Hop", "Hip Hop", "HipHop", "hip hop ", "HIP_HOP", "hip‐hop".replace("‐", "-")],
    ["Drum & Bass", "Drum and Bass", "drum'n'bass", "Drum n Bass", "drum ’n’ bass", "Drum&Bass", "drum-and-bass"],
    ["Rock & Roll", "Rock 'n' Roll", "rock'n'roll", "Rock and Roll", "rock-n-roll"],
    ["R&B", "r & b", "R and B"],
    ["Ｊａｚｚ", "jazz"],  # full-width letters are the same letters
])
def test_spelling_variants_share_one_key(spellings):
    assert len({genre_key(s) for s in spellings}) == 1


@pytest.mark.parametrize("a, b", [
    ("Rock", "Pop"), ("Drum & Bass", "Drum"), ("Andean", "& ean"), ("RnB", "R&B"), ("Post-Rock", "Rock"),
    ("Nu Jazz", "Jazz"), ("AC/DC", "ACDC"),
])
def test_different_genres_keep_different_keys(a, b):
    assert genre_key(a) != genre_key(b)


@pytest.mark.parametrize("value", ["", "  ", "Other", "unknown", "Genre", "http://example.com/rock", "www.rock.fm",
                                   "???", "x" * 81])
def test_junk_values(value):
    assert is_junk(value)


@pytest.mark.parametrize("value", ["Rock", "Drum & Bass", "Hip-Hop", "8-bit", "x" * 80, "(7)"])
def test_real_genres_are_not_junk(value):
    assert not is_junk(value)


def test_preferred_spelling_is_the_most_common_and_ties_go_to_the_first_seen():
    names = ["hip-hop", "Hip Hop", "Hip Hop", "HipHop", "Jazz ", "jazz", "Soul"]
    assert preferred_spellings(names) == {"hiphop": "Hip Hop", "jazz": "Jazz", "soul": "Soul"}


def test_taxonomy_lookup_uses_the_shared_rule():
    taxonomy = Taxonomy.load()
    assert taxonomy.canonical("hip-hop") == taxonomy.canonical("Hip Hop") is not None
    assert taxonomy.canonical("drum and bass") == taxonomy.canonical("Drum & Bass")
    assert taxonomy.canonical("no such genre at all") is None


# -- the tree: parents and families --------------------------------------------------------------


def test_parent_of_a_genre_in_any_spelling():
    vocab = vocabulary()
    assert vocab.parent("shoegaze") == "Alternative Rock"  # a lastgenre genre under a models' genre
    assert vocab.parent("dnb") == "Electronic"  # an alias reads as its genre
    assert vocab.parent("Rock") is None  # a root
    assert vocab.parent("Grindhouse Shuffle") is None  # unknown


def test_family_of_a_genre_the_models_do_not_know_is_its_nearest_models_ancestors():
    vocab = vocabulary()
    assert vocab.family("Shoegaze") == "Rock"  # Shoegaze -> Alternative Rock (a models' genre) -> Rock
    assert vocab.family("Bebop") == "Jazz"  # a models' genre: its own family
    # A lastgenre tree the models know nothing of: the family is its root, in the vocabulary's spelling.
    assert vocab.family("stand up") == "Comedy" and vocab.family("Comedy") == "Comedy"
    assert vocab.family("Grindhouse Shuffle") is None


def test_family_stops_at_a_cycle_in_the_parents():
    # The models' tree and lastgenre's are merged, so two sources can make a genre its own ancestor:
    # the walk up must end rather than loop.
    vocab = Vocabulary([("Alpha", "Beta"), ("Beta", "Alpha")], {})
    assert vocab.family("Alpha") in ("Alpha", "Beta")


# -- completion ----------------------------------------------------------------------------------


def test_completion_names_fold_variants_and_prefer_the_librarys_spelling():
    library = ["hip-hop", "Hip Hop", "Hip Hop", "Other", "grindhouse shuffle", "DnB", "Unknown"]
    names = completion_names(library)
    assert "Hip Hop" in names and "Hip-Hop" not in names and "hip-hop" not in names  # the most common
    assert "DnB" in names and "Drum and Bass" not in names  # an alias is the same genre
    assert "grindhouse shuffle" in names  # the library's own genre
    assert "Other" not in names and "Unknown" not in names  # junk is no name to offer
    assert "Rock" in names and "Shoegaze" in names  # and every genre of the vocabulary
    assert len({vocabulary().key(n) for n in names}) == len(names)  # one per genre
    # The vocabulary's genres (some of its names are aliases of others) and grindhouse shuffle.
    assert len(names) == len({vocabulary().key(n) for n in vocabulary().names()}) + 1
    assert names == sorted(names, key=str.casefold)  # case does not split the order


def test_completion_names_use_the_persons_chosen_spelling():
    save_user_alias("Shoegaze", "dream pop")
    names = completion_names(["Shoegaze", "Dream Pop", "Dream Pop"])
    assert "dream pop" in names and "Dream Pop" not in names and "Shoegaze" not in names


# -- the person's aliases ------------------------------------------------------------------------


def test_saved_aliases_add_up_and_the_merge_target_stops_pointing_elsewhere(tmp_path):
    path = tmp_path / "deep" / "config" / "genre-aliases.json"  # folders that do not exist yet
    save_user_alias("Dream Pop", "Rock", path)
    save_user_alias("Shoegaze", "Post-Punk", path)
    assert read_user_aliases(path) == {"Dream Pop": "Rock", "Shoegaze": "Post-Punk"}
    # Merging into Dream Pop: Dream Pop is a genre again, not an alias of Rock.
    save_user_alias("Grunge", "dream pop", path)
    assert read_user_aliases(path) == {"Shoegaze": "Post-Punk", "Grunge": "dream pop"}
    save_user_alias("Jazz", "Jazz", path)  # a name is never its own alias
    assert "Jazz" not in read_user_aliases(path)


def test_taking_an_alias_back_restores_only_what_it_displaced(tmp_path):
    path = tmp_path / "genre-aliases.json"
    save_user_alias("Dream Pop", "Rock", path)
    merge = save_user_alias("Grunge", "dream pop", path)  # Dream Pop stops pointing at Rock
    assert merge.displaced == {"Dream Pop": "Rock"}
    rename = save_user_alias("Shoegaze", "Noise", path)
    assert rename.displaced == {}
    save_user_alias("Rock", "Dream Pop", path)  # Dream Pop is now where Rock goes
    take_back_alias(rename, path)
    # Nothing the rename displaced comes back: Dream Pop → Rock would now make a cycle.
    assert read_user_aliases(path) == {"Grunge": "dream pop", "Rock": "Dream Pop"}
    # Nor does Dream Pop → Rock when the merge is taken back, for the same reason.
    take_back_alias(merge, path)
    assert read_user_aliases(path) == {"Rock": "Dream Pop"}


def test_saved_aliases_keep_names_readable(tmp_path):
    # The file is the person's: names stay as written (UTF-8, not \\u escapes).
    path = tmp_path / "genre-aliases.json"
    save_user_alias("Musica Popular", "Música Popular Brasileira", path)
    assert "Música Popular Brasileira" in path.read_text(encoding="utf-8")
    assert read_user_aliases(path) == {"Musica Popular": "Música Popular Brasileira"}


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CONFIG_HOME names the config folder on Linux only")
def test_the_aliases_live_in_the_user_config_folder(tmp_path, monkeypatch):
    # Where docs/command-line.md says: genre-aliases.json in the user config folder (XDG_CONFIG_HOME on Linux).
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_aliases_path() == tmp_path / "genre-tagger" / "genre-aliases.json"


def test_key_stops_at_a_cycle_of_aliases():
    # A chain of aliases is followed to its end; a table whose aliases go round must not hang the lookup.
    vocab = Vocabulary([("Alpha", None), ("Gamma", None)], {}, {"Alpha": "Beta", "Beta": "Alpha", "Delta": "Epsilon",
                                                               "Epsilon": "Gamma"})
    assert vocab.key("Alpha") in ("alpha", "beta")
    assert vocab.key("delta") == "gamma" and vocab.canonical("Delta") == "Gamma"


def test_aliases_file_that_is_damaged_or_not_aliases_is_ignored_with_a_warning(tmp_path, caplog):
    # The file is the person's to edit: a damaged one costs the aliases, never the run, and says which file.
    path = tmp_path / "genre-aliases.json"
    assert read_user_aliases(path) == {} and not caplog.records  # no file yet: nothing to say
    path.write_text("{not json", encoding="utf-8")
    assert read_user_aliases(path) == {}
    (record,) = caplog.records
    assert record.levelname == "WARNING" and str(path) in record.getMessage()
    message = record.getMessage()
    assert message.startswith(f"could not read the genre aliases in {path} (") and "line 1" in message
    assert message.endswith("); ignoring them")
    for stored in ('["Shoegaze", "Dream Pop"]', '{"aliases": ["Shoegaze"]}'):
        caplog.clear()
        path.write_text(stored, encoding="utf-8")
        assert read_user_aliases(path) == {}
        (record,) = caplog.records
        assert record.getMessage() == f"the genre aliases in {path} are not a JSON object of names; ignoring them"
    # Entries that name no genre are dropped, the others kept.
    path.write_text('{"aliases": {"Shoegaze": "Dream Pop", "Grunge": "  ", "Jazz": 5, "Soul": null}}', encoding="utf-8")
    assert read_user_aliases(path) == {"Shoegaze": "Dream Pop"}
