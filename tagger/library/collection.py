"""The person's collection as learning and album consensus see it: each file's tags,
its album, and its analysis.

``learn`` reads every file's tags, analyses the tagged ones (the cache answers for
those already analysed, so nothing is analysed twice) and trains a LearnedModel.
``albums`` groups analysed files into albums and asks each for its consensus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tagger.analysis.analyzer import Analyzer, FileResult, JobControl
from tagger.analysis.pipeline import AnalysisPipeline
from tagger.audio.excerpt import Depth
from tagger.files.scan import scan
from tagger.genres.vocabulary import is_junk
from tagger.learning.learned import (
    DEFAULT_MIN_FILES,
    NO_TAGS,
    LearnableGenres,
    LearnedModel,
    LearnPlan,
    NothingToLearn,
    TaggedFile,
    features,
    train,
)
from tagger.library.albums import AlbumConsensus, AlbumGrouper, Track, consensus
from tagger.tags import DEFAULT_SEPARATOR, TagSnapshot, tags_or_problem


@dataclass(frozen=True)
class CollectionFile:
    """A file of the person's collection with its tags, or why they could not be read."""

    path: Path
    tags: TagSnapshot | None
    problem: str | None = None  # why the file's tags could not be read, or why it was not scanned

    @property
    def genres(self) -> list[str]:
        return list(self.tags.genres) if self.tags else []


def read_collection(paths: Iterable[Path], separator: str = DEFAULT_SEPARATOR) -> Iterator[CollectionFile]:
    """Every audio file under ``paths`` with its tags; problems are files too."""
    for event in scan(paths):
        if event.problem is not None:
            yield CollectionFile(event.path, None, event.problem)
            continue
        yield CollectionFile(event.path, *tags_or_problem(event.path, separator))


@dataclass(frozen=True)
class LearnOutcome:
    """A model learned from a collection, with what was scanned, tagged and could not be used."""

    model: LearnedModel
    scanned: int
    tagged: int
    problems: list[tuple[Path, str]]  # files that could not be read or analysed


def learn(paths: Sequence[Path], analyzer: Analyzer, depth: Depth = Depth.ADAPTIVE,
          min_files: int = DEFAULT_MIN_FILES, on_start: Callable[[Path], None] | None = None,
          control: JobControl | None = None, on_plan: Callable[[LearnPlan], object] | None = None) -> LearnOutcome:
    """Train a model on the tagged files under ``paths``. The tags alone decide what
    can be learned: ``on_plan`` hears it, and NothingToLearn is raised, before any
    audio is analysed."""
    grouper = AlbumGrouper()
    problems: list[tuple[Path, str]] = []
    tagged: dict[Path, tuple[tuple[str, ...], str]] = {}
    scanned = 0
    for file in read_collection(paths):
        scanned += 1
        if file.problem is not None:
            problems.append((file.path, file.problem))
        elif any(not is_junk(g) for g in file.genres):
            album = grouper.album_of(file.path, file.tags)
            tagged[file.path] = (tuple(file.genres), album[0] if album else f"file\x1f{file.path}")
    genre_lists = [genres for genres, _ in tagged.values()]
    classes = LearnableGenres.of(genre_lists, min_files)
    if on_plan is not None:
        on_plan(LearnPlan.of(classes, genre_lists))
    if not tagged:
        raise NothingToLearn(NO_TAGS)
    classes.check_learnable()
    examples = []
    pipeline = AnalysisPipeline(analyzer, depth, control)
    for result in pipeline.results(list(tagged), on_start):
        analysis = result.analysis
        if result.error is not None:
            problems.append((result.path, result.error))
        elif analysis is not None and analysis.music_detected:
            genres, group = tagged[result.path]
            examples.append(TaggedFile(result.path, genres, group,
                                       features(analysis.embeddings, analysis.patch_probabilities)))
        else:
            problems.append((result.path, "no music detected"))
    model = train(examples, analyzer.models_key, min_files, roots=[str(p) for p in paths])
    return LearnOutcome(model, scanned, len(tagged), problems)


@dataclass(frozen=True)
class AlbumResults:
    """An album's consensus with its tracks' analyses and tags, in track order."""

    album: AlbumConsensus
    results: list[FileResult]  # in the order of album.tracks
    tags: list[tuple[TagSnapshot | None, str | None]]  # each file's tags, or why they could not be read


def albums(results: Iterable[FileResult], separator: str = DEFAULT_SEPARATOR) -> list[AlbumResults]:
    """Group analysed files into albums (a file on no album is its own) and take each
    album's consensus; albums in the order their first file came."""
    grouper = AlbumGrouper()
    groups: dict[str, tuple[str, list[FileResult], list[tuple[TagSnapshot | None, str | None]]]] = {}
    for result in results:
        reading = tags_or_problem(result.path, separator)  # unreadable: grouped by its folder
        album = grouper.album_of(result.path, reading[0])
        key, name = album if album else (f"file\x1f{result.path}", result.path.name)
        groups.setdefault(key, (name, [], []))
        groups[key][1].append(result)
        groups[key][2].append(reading)
    out = []
    for key, (name, members, member_tags) in groups.items():
        tracks = [
            Track(r.path, r.analysis.genres if r.analysis and r.analysis.music_detected else [],
                  tuple(t.genres) if t else ())
            for r, (t, _) in zip(members, member_tags)
        ]
        out.append(AlbumResults(consensus(key, name, tracks), members, member_tags))
    return out
