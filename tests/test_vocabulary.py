import pytest

from tagger.genres import Taxonomy
from tagger.vocabulary import genre_key, is_junk, preferred_spellings


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
