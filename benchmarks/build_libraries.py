"""Benchmark libraries of real music (issue 22): several differently organised
libraries built from the same real tracks, so that no default, threshold or feature
is chosen on one library alone.

    python benchmarks/build_libraries.py OUT_DIR [--sources DIR...] [--seed N] [--dry-run]

The sources (default ../shared/music and ../extra-music, see
benchmarks/fetch_debian_music.sh) hold one folder per Debian package. Every audio
file is COPIED (made writable), all its tags are removed, and new tags are written
with mutagen: title, artist, album, albumartist and tracknumber where the library
has them, and a genre ONLY on the files meant as "tagged", so the only genres in a
library are the ones set here; every copy is read back with Genre Tagger's own tag
reader. Files with the same audio (the analysis cache's content fingerprint) are
kept once. Each library gets ``truth.json``: {relative path: {"genre", "tagged",
"album", "artist", "album_id" (the album's folder: album names repeat across
artists), ...}}; ``load_library`` reads it. Around 60% of each genre is tagged
(library 3 aside); most albums are fully or partly tagged, a few not at all. A fixed
seed makes the libraries reproducible. OUT_DIR/licenses/<package>/COPYRIGHT keeps every
package's licence; the libraries are for local benchmarks and are never committed.

Libraries:

- ``by-soundtrack``: genre = the game the package scores ("Battle for Wesnoth"),
  albums = the package's tracks in albums of 3 to 15, folders
  Music/<Genre>/<Album>/ (folder names carry the genre), artist = albumartist = the
  album's main composer.
- ``by-composer``: coarse labels a person might use, shared across packages
  (Orchestral, Cinematic, Electronic, Ambient, Chiptune, Rock, Folk, Soundtrack:
  see LABELS and LABEL_OVERRIDES for the mapping and why), folders
  <Composer>/<Album>/ with no genre words, artist = composer (several span albums,
  one spans packages with different labels). Composers with only one or two tracks
  in a package go to compilations under Various Artists/<Album>/: one album tag,
  a different artist per track, no albumartist; still ONE album in truth.json.
- ``by-package-long-tail``: genre = the game, but the TAGGED files per genre are
  deliberately 2, 3, 4, 8 or 20 (all five counts mixed in one library, each genre
  keeping held-out files), albums of 3 to 15, folders <package>/<album>/.
- ``flat``: the tracks and tagged/untagged split of ``by-soundtrack`` in ONE folder
  with no album, albumartist or track number tags: only audio and artist remain.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import shutil
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AUDIO_SUFFIXES = (".ogg", ".oga", ".opus", ".mp3", ".flac")
TRUTH = "truth.json"
LIBRARIES = ("by-soundtrack", "by-composer", "by-package-long-tail", "flat")
TAGGED_SHARE = 0.6
ALBUM_SIZES = (3, 15)
COMPILATION_SIZES = (3, 10)
LONG_TAIL_COUNTS = (2, 3, 4, 8, 20)
MIN_HELD_OUT = 2  # library 3: untagged files every genre keeps at least

# The game each package scores: library 1's and 3's genre.
GAMES = {
    "asc-music": "Advanced Strategic Command",
    "blobwars-data": "Blob Wars",
    "colobot-common-sounds": "Colobot",
    "drascula-music": "Drascula",
    "fillets-ng-data": "Fish Fillets",
    "flare-game": "Flare",
    "freedroidrpg-data": "FreedroidRPG",
    "fretsonfire-songs": "Frets on Fire",
    "hedgewars-data": "Hedgewars",
    "hyperrogue-music": "HyperRogue",
    "megaglest-data": "MegaGlest",
    "naev-data": "Naev",
    "nexuiz-music": "Nexuiz",
    "planetblupi-music-ogg": "Planet Blupi",
    "singularity-music": "Endgame Singularity",
    "supertux-data": "SuperTux",
    "ufoai-music": "UFO Alien Invasion",
    "warzone2100-music": "Warzone 2100",
    "wesnoth-1.16-music": "Battle for Wesnoth",
    "widelands-data": "Widelands",
}

# Library 2's coarse labels, chosen the way a person sorting these soundtracks by ear
# and by name might: from the packages' own descriptions (COPYRIGHT), the track
# names, and the genre tags upstream left in some files (kept as the person's word
# where they exist). Nobody listened to every track: like a real person's labels
# these are coarse and sometimes arguable, which is the point of the library.
LABELS = {
    "wesnoth-1.16-music": ("Orchestral", "fantasy battle scores; upstream tags 33 of 35 tracks 'Romantic Classical'"),
    "flare-game": ("Orchestral", "fantasy action-RPG themes (town, forest, dungeon, boss)"),
    "widelands-data": ("Orchestral", "settlement-game orchestral and medieval sketches"),
    "asc-music": ("Orchestral", "strategy-game battle themes ('Frontiers', 'Time to Strike'), by name"),
    "ufoai-music": ("Cinematic", "sci-fi military tactics scores: geoscape, battlescape, mission music"),
    "naev-data": ("Cinematic", "space-opera score (Vega Strike's and Naev's); ambient and electronic pieces below"),
    "nexuiz-music": ("Electronic", "arena-shooter electronica and industrial (elysis, blkrbt); tagged Electronic"),
    "warzone2100-music": ("Electronic", "real-time-strategy techno and breakbeat"),
    "freedroidrpg-data": ("Electronic", "pieces from the kahvi.org netlabel and drum'n'bass (tagged 'dnb')"),
    "blobwars-data": ("Electronic", "dance producers from Simuze.nl: DJ Sjors, Ambick, SinQ"),
    "singularity-music": ("Ambient", "slow atmospheric electronic pieces (Maxstack)"),
    "hyperrogue-music": ("Ambient", "atmospheric loops for an exploration game"),
    "megaglest-data": ("Folk", "faction themes: Indian, Egyptian, Persian, Norse medieval, Roman"),
    "fretsonfire-songs": ("Rock", "guitar-game songs: metal and hard rock"),
    "supertux-data": ("Soundtrack", "platformer tunes, tagged 'Soundtrack' upstream; retro tracker pieces below"),
    "colobot-common-sounds": ("Soundtrack", "Daniel Roux's original soundtrack, tagged 'Soundtrack' upstream"),
    "hedgewars-data": ("Soundtrack", "comic themed level tunes (beach, pirate, Halloween, golf)"),
    "drascula-music": ("Soundtrack", "point-and-click adventure score"),
    "planetblupi-music-ogg": ("Soundtrack", "children's game tunes rendered from MIDI"),
    "fillets-ng-data": ("Soundtrack", "puzzle-game background tunes"),
}
# (package, regular expression on the path inside the package, label, why): the
# first that matches wins over LABELS.
LABEL_OVERRIDES = [
    ("naev-data", r"(^|/)(ambient|peace|ambiphonic|void_sensor)", "Ambient",
     "named ambient or peace, and Zeropage's album 'Ambient Pills'"),
    ("naev-data", r"(^|/)(eureka|terminal|combat\d|dvaered\d|sirius2)\.", "Electronic",
     "Askyel's pieces, two tagged Electronic upstream"),
    ("widelands-data", r"(^|/)ingame_1[567]\.", "Rock", "MiddleFinger's pieces, tagged 'Thrash Metal' upstream"),
    ("widelands-data", r"(^|/)ingame_28\.", "Folk", "tagged 'folk' upstream"),
    ("freedroidrpg-data", r"(^|/)TheBeginning\.", "Ambient", "tagged 'ambient' upstream"),
    ("flare-game", r"(^|/)wind_ambient\.", "Ambient", "tagged 'Ambient' upstream"),
    ("supertux-data", r"(^|/)retro/|chipdisko", "Chiptune", "the old tracker-module versions and 'Chipdisko'"),
    ("colobot-common-sounds", r"(^|/)(Constructive|Humanitarian|Hv2|Infinite|Proton|Prototype|Quite)\.",
     "Electronic", "Emxx52's Gold Edition pieces, electronic where Daniel Roux's are not"),
]

# Composers: these rules (from each package's COPYRIGHT and file names) first, then
# the file's own artist tag (spellings unified by ARTIST_ALIASES), then the package's.
ARTIST_RULES = [
    ("ufoai-music", r"^Crystan-", 'Christian "Crystan" Hoffmann'),
    ("ufoai-music", r"^David\d", "David Reeves"),
    ("ufoai-music", r"^van_", "Manuel 'Vanethian' Marino"),
    ("ufoai-music", r"^Psymong", "Psymong"),
    ("ufoai-music", r"^azrael", "azrael1322"),
    ("ufoai-music", r"^(alBasrah|greecei|turinItaly)", "Independent.nu"),
    ("fretsonfire-songs", r"^muldjord_", "Muldjord"),
    ("fretsonfire-songs", r"^sectoid_", "Sectoid"),
    ("megaglest-data", r"(^|/)romans\.", "Mattias Westlund"),  # COPYRIGHT: his album "Chronicles III"
    ("megaglest-data", r"(^|/)aminos-", "Aminos"),
    ("megaglest-data", r"(^|/)manolo_camp-", "Manolo Camp"),
    ("megaglest-data", r"(^|/)asak-", "Asak"),
]
ARTIST_ALIASES = {
    "dj sjors": "DJ Sjors",
    "elysis": 'Gerd "elysis" Raudenbusch',
    "www.elysis.de": 'Gerd "elysis" Raudenbusch',
    "gerd (elysis) raudenbusch": 'Gerd "elysis" Raudenbusch',
    "www.indiedb.com/members/crystan": 'Christian "Crystan" Hoffmann',
    'christian "crystan" hoffmann': 'Christian "Crystan" Hoffmann',
    "klaus halfmann aka hasi50": "Klaus Halfmann",
    "http://zhaymusic.com/": "Joseph G. Toscano (Zhaytee)",
}
PACKAGE_ARTISTS = {
    "asc-music": "Michael Kievernagel",
    "drascula-music": "Alcachofa Soft",
    "planetblupi-music-ogg": "Epsitec",
    "colobot-common-sounds": "Epsitec",
}
COMPILATION_ARTIST = "Various Artists"
COMPILATION_NAMES = ("Free Game Music Sampler", "Open Source Game Tunes", "Libre Game Music")


@dataclass(frozen=True)
class LibraryFile:
    """One file of a benchmark library, as truth.json describes it."""

    path: Path
    genre: str  # its true genre
    tagged: bool  # whether the file carries it (else held out)
    album: str | None
    artist: str | None
    album_id: str | None = None  # which album: its folder, as album names repeat across artists
    package: str = ""
    compilation: bool = False


def load_library(root: Path) -> list[LibraryFile]:
    """The files of a library that ``build_libraries`` made, in path order."""
    truth = json.loads((Path(root) / TRUTH).read_text(encoding="utf-8"))
    return [
        LibraryFile(Path(root) / rel, entry["genre"], entry["tagged"], entry.get("album"), entry.get("artist"),
                    entry.get("album_id"), entry.get("package", ""), entry.get("compilation", False))
        for rel, entry in sorted(truth.items())
    ]


@dataclass
class Source:
    package: str
    path: Path
    rel: str  # inside its package
    title: str
    artist: str  # the composer
    label: str  # library 2's label

    @property
    def game(self) -> str:
        return GAMES.get(self.package, self.package)

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()


@dataclass
class Entry:
    """A file to write in a library."""

    source: Source
    rel: str
    genre: str
    album: str | None
    artist: str
    albumartist: str | None
    track: str | None
    tagged: bool = False
    compilation: bool = False


@dataclass
class Album:
    entries: list[Entry] = field(default_factory=list)


# ---------------------------------------------------------------- sources


def first_value(tags, key: str) -> str:
    values = [v.strip() for v in (tags.get(key, []) if tags else []) if v and v.strip()]
    return values[0] if values else ""


def is_placeholder(text: str) -> bool:
    lowered = text.casefold()
    return not text or lowered in {"<unknown>", "unknown", "(none)"} or "://" in lowered or lowered.startswith("www.")


def resolve_artist(package: str, rel: str, tagged_artist: str) -> str:
    for rule_package, pattern, artist in ARTIST_RULES:
        if rule_package == package and re.search(pattern, rel):
            return artist
    alias = ARTIST_ALIASES.get(tagged_artist.casefold())
    if alias:
        return alias
    if not is_placeholder(tagged_artist):
        return tagged_artist
    return PACKAGE_ARTISTS.get(package, f"{GAMES.get(package, package)} Team")


def resolve_label(package: str, rel: str) -> str:
    for rule_package, pattern, label, _ in LABEL_OVERRIDES:
        if rule_package == package and re.search(pattern, rel):
            return label
    return LABELS[package][0]


def pretty_title(stem: str) -> str:
    words = re.sub(r"[_\-]+", " ", stem).split()
    return " ".join(w if any(c.isupper() for c in w) else w.capitalize() for w in words)


def title_of(path: Path, tags) -> str:
    titles = [v.strip() for v in (tags.get("title", []) if tags else []) if v and v.strip()]
    stem = path.stem.casefold()
    for title in titles:  # a file can carry stale titles: prefer one its name shows
        if re.sub(r"\W", "", title.casefold()) in re.sub(r"\W", "", stem):
            return title
    if titles and not re.fullmatch(r"\d+ - Track \d+", titles[0]):
        return titles[0]
    return pretty_title(path.stem)


def audio_identity(path: Path) -> str:
    """The analysis cache's content key where it can be read (so two files the cache
    would take for one are kept once), else the bytes' hash."""
    try:
        from tagger.audio.decode import content_fingerprint, open_audio

        reader = open_audio(path)
        try:
            return content_fingerprint(path, reader)
        finally:
            reader.close()
    except Exception:  # any failure: fall back to the bytes
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def find_sources(roots: list[Path]) -> tuple[list[Source], list[str], dict[str, Path]]:
    """Every usable track, the files left out and why, and each package's COPYRIGHT."""
    import mutagen

    sources, skipped, copyrights, seen = [], [], {}, {}
    for root in roots:
        for package_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            package = package_dir.name
            if package not in LABELS:
                skipped.append(f"{package_dir}: a package without a label in LABELS")
                continue
            if (package_dir / "COPYRIGHT").is_file():
                copyrights[package] = package_dir / "COPYRIGHT"
            for path in sorted(p for p in package_dir.rglob("*") if p.is_file()):
                if path.suffix.lower() not in AUDIO_SUFFIXES:
                    continue
                rel = path.relative_to(package_dir).as_posix()
                try:
                    audio = mutagen.File(path, easy=True)
                except Exception as e:
                    skipped.append(f"{path}: mutagen cannot read it ({e})")
                    continue
                if audio is None:
                    skipped.append(f"{path}: not a format mutagen knows")
                    continue
                identity = audio_identity(path)
                if identity in seen:
                    skipped.append(f"{path}: the same audio as {seen[identity]}")
                    continue
                seen[identity] = path
                tags = audio.tags
                sources.append(Source(package, path, rel, title_of(path, tags),
                                      resolve_artist(package, rel, first_value(tags, "artist")),
                                      resolve_label(package, rel)))
    return sources, skipped, copyrights


# ---------------------------------------------------------------- layouts


def split_sizes(n: int, rng: random.Random, low: int, high: int) -> list[int]:
    """Album sizes that add up to ``n``: between ``low`` and ``high`` where ``n`` allows."""
    sizes = []
    while n > 0:
        size = n if n <= high and (n < 2 * low or rng.random() < 0.3) else rng.randint(low, min(high, n - low))
        sizes.append(size)
        n -= size
    return sizes


def safe_name(text: str) -> str:
    text = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", text)
    return " ".join(text.split()).strip(" .") or "untitled"


def album_entries(tracks: list[Source], name: str, folder: str, genre_of, artist: str | None,
                  albumartist: bool, compilation: bool = False) -> Album:
    """One album: tracks numbered in order, files named '<NN> - <title>'."""
    album = Album()
    for i, source in enumerate(tracks, 1):
        rel = f"{folder}/{i:02d} - {safe_name(source.title)}{source.suffix}"
        album.entries.append(Entry(source, rel, genre_of(source), name, artist or source.artist,
                                   (artist or source.artist) if albumartist else None,
                                   f"{i}/{len(tracks)}", compilation=compilation))
    return album


def main_artist(tracks: list[Source]) -> str:
    counts = Counter(s.artist for s in tracks)
    return max(counts, key=lambda a: (counts[a], -[s.artist for s in tracks].index(a)))


def by_package_albums(sources: list[Source], rng: random.Random, folder_of, name_of) -> list[Album]:
    """Each package's tracks, in their own order, in albums of ALBUM_SIZES; the album
    artist is its main composer."""
    albums = []
    for tracks in group(sources, lambda s: s.package).values():
        start = 0
        for number, size in enumerate(split_sizes(len(tracks), rng, *ALBUM_SIZES), 1):
            part = tracks[start:start + size]
            start += size
            name = name_of(part[0].game, number)
            albums.append(album_entries(part, name, folder_of(part[0], name), lambda s: s.game,
                                        main_artist(part), albumartist=True))
    return albums


def group(items, key) -> dict:
    groups = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return dict(groups)


def soundtrack_layout(sources: list[Source], rng: random.Random) -> list[Album]:
    def name_of(game: str, number: int) -> str:
        return f"{game} Original Soundtrack" + ("" if number == 1 else f" Vol. {number}")

    return by_package_albums(sources, rng, lambda s, name: f"Music/{safe_name(s.game)}/{safe_name(name)}", name_of)


def long_tail_layout(sources: list[Source], rng: random.Random) -> list[Album]:
    def name_of(game: str, number: int) -> str:
        return f"{game} Music" + ("" if number == 1 else f", Part {number}")

    return by_package_albums(sources, rng, lambda s, name: f"{s.package}/{safe_name(name)}", name_of)


ROMAN = ("", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X")


def composer_layout(sources: list[Source], rng: random.Random) -> list[Album]:
    """Albums per composer and package; a composer's few stray tracks go to
    compilations of one label (and the last few of any label to a mixed one)."""
    albums, strays = [], []
    by_composer = group(sources, lambda s: (s.artist, s.package))
    numbers: Counter = Counter()
    for (artist, package), tracks in by_composer.items():
        if len(tracks) < ALBUM_SIZES[0]:
            strays += tracks
            continue
        start = 0
        for size in split_sizes(len(tracks), rng, *ALBUM_SIZES):
            part = tracks[start:start + size]
            start += size
            numbers[(artist, package)] += 1
            name = f"{part[0].game} Music{ROMAN[min(numbers[(artist, package)], len(ROMAN)) - 1]}"
            albums.append(album_entries(part, name, f"{safe_name(artist)}/{safe_name(name)}",
                                        lambda s: s.label, artist, albumartist=True))
    pools, mixed = group(strays, lambda s: s.label), []
    compilations = 0
    for label in sorted(pools):
        pool = pools[label]
        rng.shuffle(pool)
        if len(pool) < COMPILATION_SIZES[0]:
            mixed += pool
            continue
        start = 0
        for size in split_sizes(len(pool), rng, *COMPILATION_SIZES):
            albums.append(compilation(pool[start:start + size], compilations))
            compilations += 1
            start += size
    if len(mixed) >= 2 or (mixed and not compilations):
        albums.append(compilation(mixed, compilations))
    elif mixed:  # one track left: it joins the last compilation
        albums[-1] = compilation([e.source for e in albums[-1].entries] + mixed, compilations - 1)
    return albums


def compilation(tracks: list[Source], number: int) -> Album:
    name = f"{COMPILATION_NAMES[number % len(COMPILATION_NAMES)]} Vol. {number // len(COMPILATION_NAMES) + 1}"
    return album_entries(tracks, name, f"{COMPILATION_ARTIST}/{safe_name(name)}", lambda s: s.label,
                         None, albumartist=False, compilation=True)


def flat_layout(albums: list[Album]) -> list[Album]:
    """library 1's files in one folder, without album, albumartist or track number."""
    flat, used = Album(), set()
    for album in albums:
        for e in album.entries:
            base = safe_name(f"{e.artist} - {e.source.title}")
            name, n = base, 1
            while name.casefold() in used:
                n += 1
                name = f"{base} ({n})"
            used.add(name.casefold())
            flat.entries.append(Entry(e.source, f"{name}{e.source.suffix}", e.genre, None, e.artist, None, None,
                                      tagged=e.tagged))
    return [flat]


# ---------------------------------------------------------------- which files are tagged


def choose_tagged(albums: list[Album], targets: dict[str, int], rng: random.Random, exact: bool,
                  iterations: int = 20000) -> None:
    """Mark files tagged so that each genre has about its target, album by album:
    most albums fully or partly tagged, a few not at all (local search, seeded)."""
    genre = [[e.genre for e in a.entries] for a in albums]
    totals = Counter(g for gs in genre for g in gs)
    k = len(albums)

    # (fully tagged, partly tagged) shares of a fresh draw; the rest stay untagged
    shares = (0.15, 0.35) if exact else (0.42, 0.42)

    def draw(i: int) -> frozenset[int]:
        size = len(albums[i].entries)
        r = rng.random()
        if r < shares[0]:
            return frozenset(range(size))
        if r < shares[0] + shares[1] and size >= 2:
            return frozenset(rng.sample(range(size), rng.randint(1, size - 1)))
        return frozenset()

    def cost(state: list[frozenset[int]]) -> float:
        tagged = Counter(genre[i][j] for i, s in enumerate(state) for j in s)
        c = 0.0
        for g, n in totals.items():
            c += (10 if exact else 1) * abs(tagged[g] - targets[g])
            c += 50 * (n - tagged[g] < min(MIN_HELD_OUT if exact else 1, n - targets[g]))
            c += 50 * (tagged[g] < min(2, targets[g]))
        none = sum(not s for s in state)
        full = sum(len(s) == len(albums[i].entries) for i, s in enumerate(state))
        partial = k - none - full
        if exact:  # a few tagged files sit together, on an album or two, as a person tags
            c += 0.1 * (k - none) + 0.05 * partial
        else:
            c += 0.5 * max(0, math.ceil(0.08 * k) - none) + 0.5 * max(0, none - math.ceil(0.2 * k))
            c += 0.5 * max(0, math.ceil(0.3 * k) - full) + 0.5 * max(0, math.ceil(0.3 * k) - partial)
        return c

    items = [(i, j) for i in range(k) for j in range(len(albums[i].entries))]
    state = [draw(i) for i in range(k)]
    best = cost(state)
    for _ in range(iterations):
        move = rng.random()
        if move < 0.4:  # a tag moves to an untagged file of its genre: the counts stay
            i, j = rng.choice(items)
            ii, jj = rng.choice(items)
            if genre[i][j] != genre[ii][jj] or (j in state[i]) == (jj in state[ii]):
                continue
            trial = list(state)
            trial[i] = trial[i] ^ {j}
            trial[ii] = trial[ii] ^ {jj}
        elif move < 0.7:  # one file more or fewer
            i, j = rng.choice(items)
            trial = list(state)
            trial[i] = trial[i] ^ {j}
        else:
            i = rng.randrange(k)
            trial = list(state)
            trial[i] = draw(i)
        c = cost(trial)
        if c <= best:
            state, best = trial, c
    for album, chosen in zip(albums, state):
        for j, e in enumerate(album.entries):
            e.tagged = j in chosen


def long_tail_targets(albums: list[Album], rng: random.Random) -> dict[str, int]:
    """Each genre's tagged count, from LONG_TAIL_COUNTS: every count used at least twice
    where the genres allow (the largest first), the rest drawn at random, and never
    so many that fewer than MIN_HELD_OUT files are left untagged. Counts are drawn
    independently of the genre's size, so few tagged files is not the same as a
    small genre."""
    totals = Counter(e.genre for a in albums for e in a.entries)
    genres = sorted(totals)
    rng.shuffle(genres)
    targets: dict[str, int] = {}
    for count in sorted(LONG_TAIL_COUNTS * 2, reverse=True):
        fits = [g for g in genres if g not in targets and totals[g] >= count + MIN_HELD_OUT]
        if fits:
            targets[rng.choice(fits)] = count
    for g in genres:
        if g not in targets:
            fits = [c for c in LONG_TAIL_COUNTS if totals[g] >= c + MIN_HELD_OUT]
            targets[g] = rng.choice(fits or [c for c in LONG_TAIL_COUNTS if totals[g] > c] or [1])
    return targets


# ---------------------------------------------------------------- writing


def write_tags(path: Path, entry: Entry) -> None:
    """Replace every tag of the copy at ``path`` with the entry's."""
    import mutagen
    import mutagen.apev2
    import mutagen.id3

    if path.suffix.lower() == ".mp3":  # ID3v1 and APEv2 can hold a genre too
        mutagen.id3.delete(path)
        mutagen.apev2.delete(path)
    audio = mutagen.File(path, easy=True)
    if audio.tags is None:
        audio.add_tags()
    for key in list(audio.tags.keys()):
        del audio.tags[key]
    values = {"title": entry.source.title, "artist": entry.artist, "album": entry.album,
              "albumartist": entry.albumartist, "tracknumber": entry.track,
              "genre": entry.genre if entry.tagged else None}
    for key, value in values.items():
        if value:
            audio.tags[key] = [value]
    if path.suffix.lower() == ".mp3":
        audio.save(v1=0)
    else:
        audio.save()


def check(path: Path, entry: Entry) -> None:
    """Read the copy back the way Genre Tagger reads tags."""
    from tagger.tags import read_tags

    tags = read_tags(path)
    want = [entry.genre] if entry.tagged else []
    problems = []
    if tags.genres != want:
        problems.append(f"genres {tags.genres} != {want}")
    if (tags.album or None) != entry.album:
        problems.append(f"album {tags.album!r} != {entry.album!r}")
    if (tags.artist or None) != entry.artist or (tags.album_artist or None) != entry.albumartist:
        problems.append(f"artist {tags.artist!r}/{tags.album_artist!r} != {entry.artist!r}/{entry.albumartist!r}")
    if problems:
        raise SystemExit(f"{path}: {'; '.join(problems)}")


def truth_of(e: Entry) -> dict:
    return {"genre": e.genre, "tagged": e.tagged, "album": e.album, "artist": e.artist,
            "album_id": Path(e.rel).parent.as_posix() if e.album else None, "albumartist": e.albumartist,
            "title": e.source.title, "package": e.source.package,
            "source": e.source.rel, "compilation": e.compilation}


def plan(albums: list[Album]) -> dict:
    truth = {}
    for album in albums:
        for e in album.entries:
            if e.rel in truth:
                raise SystemExit(f"two files would be {e.rel}")
            truth[e.rel] = truth_of(e)
    return truth


def write_library(root: Path, albums: list[Album]) -> dict:
    if root.exists():
        if not (root / TRUTH).is_file():
            raise SystemExit(f"{root} exists and is not a library this script built: not replacing it")
        shutil.rmtree(root)
    plan(albums)
    root.mkdir(parents=True)
    truth = {}
    for album in albums:
        for e in album.entries:
            target = root / e.rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(e.source.path, target)  # a new file: writable whatever the source's mode
            target.chmod(0o644)
            write_tags(target, e)
            check(target, e)
            truth[e.rel] = truth_of(e)
    (root / TRUTH).write_text(json.dumps(truth, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                              encoding="utf-8")
    return truth


def check_no_genre_words(albums: list[Album]) -> None:
    """Library 2's folders must not give its genres away."""
    words = {label.casefold() for label, _ in LABELS.values()} | {o[2].casefold() for o in LABEL_OVERRIDES}
    for album in albums:
        for e in album.entries:
            for part in Path(e.rel).parent.parts:
                hit = words & set(re.findall(r"\w+", part.casefold()))
                if hit:
                    raise SystemExit(f"by-composer folder {part!r} names a genre: {sorted(hit)}")


def summary(name: str, truth: dict) -> str:
    genres = Counter(v["genre"] for v in truth.values())
    tagged = Counter(v["genre"] for v in truth.values() if v["tagged"])
    albums = defaultdict(list)
    for v in truth.values():
        if v["album_id"]:
            albums[v["album_id"]].append(v["tagged"])
    modes = Counter("full" if all(a) else "none" if not any(a) else "partial" for a in albums.values())
    sizes = sorted(len(a) for a in albums.values())
    lines = [f"{name}: {len(truth)} tracks, {len(genres)} genres, {sum(tagged.values())} tagged, "
             f"{len(truth) - sum(tagged.values())} held out; "
             + (f"{len(albums)} albums of {sizes[0]}-{sizes[-1]} tracks ({modes['full']} fully tagged, "
                f"{modes['partial']} partly, {modes['none']} untagged), "
                f"{sum(v['compilation'] for v in truth.values())} tracks on compilations"
                if albums else "no album tags")]
    for g in sorted(genres, key=lambda g: (-genres[g], g)):
        lines.append(f"    {g:<28} {genres[g]:>3} tracks, {tagged[g]:>3} tagged")
    return "\n".join(lines)


def plan_libraries(sources: list[Source], seed: int) -> dict[str, list[Album]]:
    """Each library's albums, files and tagged files: the same for the same sources and seed."""
    def rng(name: str) -> random.Random:
        return random.Random(f"{seed}/{name}")

    soundtrack = soundtrack_layout(sources, rng("by-soundtrack albums"))
    totals = Counter(e.genre for a in soundtrack for e in a.entries)
    choose_tagged(soundtrack, {g: round(TAGGED_SHARE * n) for g, n in totals.items()},
                  rng("by-soundtrack tagged"), exact=False)

    composer = composer_layout(sources, rng("by-composer albums"))
    check_no_genre_words(composer)
    totals = Counter(e.genre for a in composer for e in a.entries)
    choose_tagged(composer, {g: round(TAGGED_SHARE * n) for g, n in totals.items()},
                  rng("by-composer tagged"), exact=False)

    long_tail = long_tail_layout(sources, rng("by-package-long-tail albums"))
    choose_tagged(long_tail, long_tail_targets(long_tail, rng("by-package-long-tail counts")),
                  rng("by-package-long-tail tagged"), exact=True)

    return {"by-soundtrack": soundtrack, "by-composer": composer, "by-package-long-tail": long_tail,
            "flat": flat_layout(soundtrack)}


def build(out: Path, roots: list[Path], seed: int, dry_run: bool = False) -> None:
    sources, skipped, copyrights = find_sources(roots)
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    if not sources:
        raise SystemExit("no audio found under " + ", ".join(map(str, roots)))
    layouts = plan_libraries(sources, seed)
    if dry_run:
        for name, albums in layouts.items():
            print(summary(name, plan(albums)))
        return
    out.mkdir(parents=True, exist_ok=True)
    for package, copyright_file in copyrights.items():
        (out / "licenses" / package).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(copyright_file, out / "licenses" / package / "COPYRIGHT")
    (out / "README.txt").write_text(
        "Benchmark libraries built by Genre Tagger's benchmarks/build_libraries.py from Debian packages'\n"
        "music, for local benchmarks only. Each package's licence is in licenses/<package>/COPYRIGHT.\n"
        + __doc__.split("Libraries:", 1)[1], encoding="utf-8")
    for name, albums in layouts.items():
        truth = write_library(out / name, albums)
        print(summary(name, truth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, metavar="OUT_DIR")
    parser.add_argument("--sources", nargs="+", type=Path, metavar="DIR",
                        help="folders of package folders (default ../shared/music and ../extra-music)")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--dry-run", action="store_true", help="print the libraries' plan, copy nothing")
    args = parser.parse_args()
    roots = args.sources or [p for p in (ROOT.parent / "shared" / "music", ROOT.parent / "extra-music")
                             if p.is_dir()]
    build(args.out, roots, args.seed, args.dry_run)


if __name__ == "__main__":
    main()
