"""aperaw on bytes built here: which APEv2 tags it rewrites item by item, what it refuses and
why, and that what it rebuilds or finds after the tag (Lyrics3v2, ID3v1) is exact."""

import io
import struct

import pytest
from support.ape import HAS_HEADER, IS_HEADER, ape_item, ape_tag, ape_wrap, lyrics3v2
from support.id3 import id3v1

from tagger.tags import aperaw
from tagger.tags.aperaw import RawAPEError, RawItem

AUDIO = b"audio frames " * 8
V1 = id3v1(b"v1 title", b"v1 artist", b"v1 album", b"v1 comment", 17)
TITLE = ape_item(b"Title", b"A title")
YEAR = ape_item(b"Year", b"1999")


def found(data: bytes) -> aperaw.RawAPETag | None:
    return aperaw.find_tag(io.BytesIO(data))


def refusal(data: bytes) -> str:
    with pytest.raises(RawAPEError) as caught:
        found(data)
    return str(caught.value)


def footer_only(body: bytes, count: int, flags: int = 0) -> bytes:
    return ape_wrap(body, count, header=False, flags=flags)


def with_footer_field(tag: bytes, offset: int, value: int) -> bytes:
    """``tag`` with the 32-bit field at ``offset`` in its footer (8 size, 12 count, 16 flags) set."""
    at = len(tag) - 32 + offset
    return tag[:at] + struct.pack("<I", value) + tag[at + 4:]


# Where the tag is and what it holds

def test_a_tag_with_a_header_at_the_very_start_of_the_file_is_found():
    tag = ape_tag([("Title", b"A title")])
    raw = found(tag)
    assert raw is not None and (raw.start, raw.end) == (0, len(tag))
    assert raw.header == tag[:32] and raw.items == (RawItem("Title", 0, b"A title"),)


def test_a_tag_without_a_header_starts_at_its_first_item():
    tag = footer_only(TITLE + YEAR, 2)
    raw = found(AUDIO + tag)
    assert raw is not None and raw.header is None
    assert (raw.start, raw.end) == (len(AUDIO), len(AUDIO + tag))
    assert raw.rebuilt(raw.items) == tag  # no header made up for it


def test_an_empty_footer_only_tag_that_is_the_whole_file_is_found():
    tag = footer_only(b"", 0)
    raw = found(tag)
    assert raw is not None and (raw.start, raw.end, raw.items) == (0, 32, ())


def test_an_empty_tag_after_audio_is_found():
    raw = found(AUDIO + footer_only(b"", 0))
    assert raw is not None and (raw.start, raw.items) == (len(AUDIO), ())


def test_item_flags_and_bytes_go_back_as_stored():
    # Bit 31 and the read-only bit: kept even where the flags do not fit a signed 32-bit number.
    body = ape_item(b"Cover Art (Front)", b"\x00\xffpicture", flags=0x80000003) + TITLE
    tag = ape_wrap(body, 2)
    raw = found(AUDIO + tag)
    assert raw is not None and raw.items[0] == RawItem("Cover Art (Front)", 0x80000003, b"\x00\xffpicture")
    assert raw.rebuilt(raw.items) == tag


def test_a_rebuilt_tag_counts_its_new_items_and_keeps_the_rest_of_its_header_and_footer():
    raw = found(AUDIO + ape_tag([("Title", b"A title")]))
    assert raw is not None
    items = (*raw.items, RawItem("Genre", 0, b"Jazz"))
    assert raw.rebuilt(items) == ape_tag([("Title", b"A title"), ("Genre", b"Jazz")])


def test_a_new_tag_is_laid_out_as_mutagen_lays_one_out():
    f = io.BytesIO(AUDIO + lyrics3v2(b"la") + V1)
    new = aperaw.new_tag(f)
    assert new.start == new.end == len(AUDIO)
    assert new.rebuilt((RawItem("Genre", 0, b"Jazz"),)) == ape_tag([("Genre", b"Jazz")])
    assert struct.unpack("<I", new.header[20:24])[0] == HAS_HEADER | IS_HEADER  # type: ignore[index]


@pytest.mark.parametrize("tail", [b"", V1, lyrics3v2(b"[00:01]la la") + V1],
                         ids=["none", "ID3v1", "Lyrics3v2 and ID3v1"])
def test_the_tag_is_found_before_what_follows_it(tail):
    tag = ape_tag([("Title", b"A title")])
    raw = found(AUDIO + tag + tail)
    assert raw is not None and (raw.start, raw.end) == (len(AUDIO), len(AUDIO + tag))


# What it refuses, and the reason a person reads

def test_an_apev1_tag_is_refused():
    assert refusal(AUDIO + ape_tag([("Title", b"A title")], version=1000)) == "the APE tag is not APEv2"


@pytest.mark.parametrize("damage", [
    lambda tag: with_footer_field(tag, 20, HAS_HEADER | IS_HEADER),  # a header where the footer should be
    lambda tag: with_footer_field(tag, 12, 31),  # smaller than a footer
    lambda tag: with_footer_field(tag, 12, len(AUDIO + tag) + 1),  # larger than the file
], ids=["header flag", "size under 32", "size past the file's start"])
def test_a_damaged_footer_is_refused(damage):
    assert refusal(AUDIO + damage(ape_tag([("Title", b"A title")]))) == "the APEv2 footer is damaged"


def test_a_tag_whose_size_reaches_the_files_start_is_read_to_there():
    tag = footer_only(TITLE, 1)
    raw = found(tag)
    assert raw is not None and raw.start == 0 and raw.items == (RawItem("Title", 0, b"A title"),)


@pytest.mark.parametrize("data", [
    footer_only(TITLE, 1, flags=HAS_HEADER),  # the header would lie before the file's start
    AUDIO + footer_only(TITLE, 1, flags=HAS_HEADER),  # no header magic where it would lie
], ids=["no room", "no magic"])
def test_a_missing_header_is_refused(data):
    assert refusal(data) == "the APEv2 header is missing"


@pytest.mark.parametrize("body, count", [
    (TITLE, 2),  # one item more than the tag holds
    (TITLE[:6], 1),  # not even an item's size and flags
    (ape_item(b"Title", b"A title")[:-8] + b"A title", 1),  # no NUL after the key
    (ape_item(b"Title", b"A title", size=8), 1),  # the value one byte past the tag
    (ape_item(b"Title", b"A title", size=0xFFFFFFFF), 1),  # a size no tag can hold
    (ape_item(b"Title", b"A title")[:8] + b"Title", 1),  # the NUL after the key missing, nothing after
], ids=["count", "header cut", "no NUL", "one byte past", "huge size", "key cut"])
def test_items_that_run_past_the_tag_are_refused(body, count):
    assert refusal(AUDIO + ape_wrap(body, count)) == "the APEv2 items run past the tag"


def test_a_count_that_does_not_fit_a_signed_number_is_refused():
    assert refusal(AUDIO + ape_wrap(b"", 0x80000000)) == "the APEv2 items run past the tag"


@pytest.mark.parametrize("key", [b"", b"Ti\x01tle", b"Ti\x7ftle", "Tïtle".encode()],
                         ids=["empty", "control", "DEL", "not ASCII"])
def test_a_damaged_key_is_refused(key):
    # No NUL in the value, so the reason is the key and not where the next NUL lies.
    assert refusal(AUDIO + ape_wrap(ape_item(key, b"value"), 1)) == "an APEv2 item's key is damaged"


def test_keys_may_use_every_printable_ascii_character():
    key = bytes(range(0x20, 0x7F))
    raw = found(AUDIO + ape_wrap(ape_item(key, b"value"), 1))
    assert raw is not None and raw.items[0].key == key.decode()


def test_items_that_do_not_fill_the_tag_are_refused():
    assert refusal(AUDIO + ape_wrap(TITLE + b"\0\0", 1)) == "the APEv2 items do not fill the tag"


# Lyrics3v2 before an ID3v1 tag

def lyrics3v2_of(data: bytes) -> bytes | None:
    return aperaw.lyrics3v2_block(io.BytesIO(data))


def test_a_lyrics3v2_tag_is_taken_whole():
    lyrics = lyrics3v2(b"[00:01]la la")
    assert lyrics3v2_of(AUDIO + lyrics + V1) == lyrics
    assert lyrics3v2_of(lyrics + V1) == lyrics  # from the file's first byte


@pytest.mark.parametrize("before", [
    b"abcdefLYRICS200",  # no size
    b"000020XYZXYZXYZ",  # a size but no end mark
    b"000030LYRICS200",  # a size that puts its start 25 bytes before the file's
    b"999999LYRICS200",
], ids=["no size", "no end mark", "size past the start", "huge size"])
def test_what_only_looks_like_a_lyrics3v2_tag_is_none(before):
    assert lyrics3v2_of(b"12345" + before + V1) is None


def test_no_lyrics3v2_tag_without_an_id3v1_tag():
    assert lyrics3v2_of(AUDIO + lyrics3v2(b"la")) is None


# What with_text gives the item it replaces

def test_a_replaced_item_becomes_text_and_keeps_its_read_only_flag_and_spelling():
    binary_read_only = RawItem("GENRE", 0b011, b"\x00\x01")
    items = aperaw.with_text((binary_read_only,), "Genre", ["Jazz", "Bebop"])
    assert items == (RawItem("GENRE", 0b001, b"Jazz\0Bebop"),)
