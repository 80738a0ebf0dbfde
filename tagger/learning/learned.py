"""Learning the person's own genres from the files they already tagged.

    tagged files ─▶ cached analyses ─▶ features ─▶ classes (the person's spellings)
                 ─▶ grouped cross-validation picks a classifier (tagger.learning.classifiers)
                 ─▶ calibration ─▶ LearnedModel

Features are what the analysis cache already holds: each model's mean embedding,
and the mean and spread over the analysed patches of its tag logits, so a track
that changes character looks different from a uniform one. Every genre on two or
more tagged files is learned; a file with several genres counts for each of them.
Which classifier suits a library is the library's to say: cross-validation grouped
by album chooses among logistic regressions, shrinkage LDA and nearest prototypes.
Its probabilities are calibrated on out-of-fold predictions (a temperature, then a
map of the top suggestion's confidence that also learns how much less a genre on few
files deserves), so that "80%" is right about 80% of the time on the person's own
files. The report gives the figures that back this up.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tagger.files.regular import irregular_file
from tagger.files.state import state_errors
from tagger.genres.suggestion import GenreSuggestion, Source
from tagger.genres.taxonomy import Taxonomy
from tagger.genres.vocabulary import is_junk, preferred_spellings, vocabulary
from tagger.learning.classifiers import (
    LINEAR,
    PROTOTYPE,
    CandidateFigures,
    Member,
    Standardiser,
    choose,
    combined_probabilities,
    fit_temperature,
)
from tagger.learning.minimise import nelder_mead
from tagger.probability import logit, softmax
from tagger.text import TextEnum, plural

# Bump when features() changes: a stored model then no longer fits what it is fed.
FEATURE_VERSION = 1
# 2: the library chooses its classifier (members), and the calibrator weighs thin genres.
MODEL_FORMAT = 2
# A genre on fewer tagged files is not learned. One file cannot be tested against
# anything, so a genre on one file is offered only by album, artist or folder evidence
# (tagger.library.context); from two on, calibration keeps a thin genre's confidence honest.
DEFAULT_MIN_FILES = 2
# What both front ends say of a file the learned model finds unlike the library (Analysis.unlike_library).
UNLIKE_LIBRARY = "unlike anything you tagged: the bundled vocabulary's genres lead"
# A learned genre on fewer files than this is marked "few examples" in the report.
FEW_EXAMPLES = 5
FOLDS = 5
# How far the shared covariance is pulled toward the identity for the typicality
# distance, 0..1 (benchmarks/learning.py's sweep over the benchmark libraries).
SHRINKAGE = 0.5
# Cross-validation chooses the classifier on at most this many files (whole albums,
# drawn the same way every time), so that learning from ten thousand files stays
# within seconds; the chosen classifier is then fitted on every file.
SELECTION_FILES = 1500
RELIABILITY_BINS = 10
# Files more atypical than this share of the library's own held-out files start to
# lose the library model's confidence (see Typicality). At 0.05 the bundled genres led
# on 6% of the long-tail benchmark library's held-out files, all of them of the
# person's genres; at 0.01, 4%, with no library losing held-out top-1 (benchmarks/learning.py).
FAMILIAR_TAIL = 0.01


class NothingToLearn(Exception):
    """The library gives no basis for a model: no tagged files, or a single genre."""


NO_TAGS = "none of these files carries a genre tag, so there is nothing to learn from"


class LearnedModelError(Exception):
    """A stored model that cannot be used: missing, damaged, or made for other models."""


class NoLearnedModel(LearnedModelError):
    """Nothing has been learned yet."""


def default_model_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("genre-tagger", appauthor=False) / "learned-model.npz"


def features(embeddings: Mapping[str, np.ndarray], patch_probabilities: Mapping[str, np.ndarray]) -> np.ndarray:
    """One file's feature vector from its cached model outputs, models in name order."""
    parts = []
    for name in sorted(patch_probabilities):
        logits = logit(patch_probabilities[name])
        parts += [np.asarray(embeddings[name], np.float64), logits.mean(axis=0), logits.std(axis=0)]
    return np.concatenate(parts)


@dataclass(frozen=True)
class TaggedFile:
    """A file that already carries genres, with its analysis reduced to features."""

    path: Path
    genres: tuple[str, ...]  # as tagged
    group: str  # its album: tracks of one album never sit on both sides of a fold
    features: np.ndarray


@dataclass(frozen=True)
class GenreFigures:
    """How well one learned genre was suggested in cross-validation, and from how many files."""

    genre: str
    files: int
    precision: float | None  # of the top suggestion, in cross-validation
    recall: float | None

    @property
    def few(self) -> bool:
        """Learned from so few files that its figures and confidences say little yet."""
        return self.files < FEW_EXAMPLES


@dataclass(frozen=True)
class ReliabilityBin:
    """Files whose top suggestion fell in one confidence band, and how often it was right."""

    low: float
    high: float
    files: int
    confidence: float  # mean stated confidence of the top suggestion
    accuracy: float  # how often that top suggestion was right


@dataclass(frozen=True)
class LearnReport:
    """What learning found: the genres learned and left out, and how right and how honest the model is."""

    files: int  # tagged files the model learned from
    genres: list[GenreFigures]
    thin: dict[str, int]  # genres with too few files to learn, with their counts
    junk: dict[str, int]  # values that are no genre
    top1: float
    top3: float
    expected_calibration_error: float
    reliability: list[ReliabilityBin]
    confusions: list[tuple[str, str, int]]  # (tagged, suggested instead, files), most first
    temperature: float
    folds: int
    seconds: float
    # What a fold held out: whole albums, or single files where most genres sit on one
    # album or two (holding out the album would hold out the genre).
    grouping: str = "album"
    untested: int = 0  # held-out files none of whose genres the rest of the library had
    tested: int = 0  # held-out files the figures rest on
    model: str = ""  # the classifier cross-validation chose
    candidates: list[CandidateFigures] = field(default_factory=list)  # every one it tried, best first
    # Where the calibration error lies for 9 resamplings of the tested files in 10.
    calibration_interval: tuple[float, float] = (math.nan, math.nan)

    def to_json(self) -> dict:
        return {
            "files": self.files,
            "genres": [g.__dict__ for g in self.genres],
            "thin": self.thin,
            "junk": self.junk,
            "top1": self.top1,
            "top3": self.top3,
            "expected_calibration_error": self.expected_calibration_error,
            "reliability": [b.__dict__ for b in self.reliability],
            "confusions": [list(c) for c in self.confusions],
            "temperature": self.temperature,
            "folds": self.folds,
            "seconds": self.seconds,
            "grouping": self.grouping,
            "untested": self.untested,
            "tested": self.tested,
            "model": self.model,
            "candidates": [c.__dict__ for c in self.candidates],
            "calibration_interval": list(self.calibration_interval),
        }

    @classmethod
    def from_json(cls, doc: dict) -> LearnReport:
        return cls(
            files=doc["files"], genres=[GenreFigures(**g) for g in doc["genres"]], thin=doc["thin"],
            junk=doc["junk"], top1=doc["top1"], top3=doc["top3"],
            expected_calibration_error=doc["expected_calibration_error"],
            reliability=[ReliabilityBin(**b) for b in doc["reliability"]],
            confusions=[tuple(c) for c in doc["confusions"]], temperature=doc["temperature"],
            folds=doc["folds"], seconds=doc["seconds"], grouping=doc["grouping"], untested=doc["untested"],
            tested=doc["tested"], model=doc["model"], candidates=[CandidateFigures(**c) for c in doc["candidates"]],
            calibration_interval=tuple(doc["calibration_interval"]),
        )


@dataclass(frozen=True)
class Discriminants:
    """Linear discriminants over standardised features: each genre's score, and how
    far a file lies from the nearest genre's centre (Mahalanobis, squared)."""

    mean: np.ndarray  # [features]
    scale: np.ndarray  # [features]
    weights: np.ndarray  # [features, genres]: precision @ centres
    bias: np.ndarray  # [genres]
    precision: np.ndarray  # [features, features]: the inverse of the shrunk within-genre covariance
    centre_norms: np.ndarray  # [genres]: each centre's squared length under the precision

    ARRAYS = ("mean", "scale", "weights", "bias", "precision", "centre_norms")

    def _standardised(self, x: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(x) - self.mean) / self.scale

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self._standardised(x) @ self.weights + self.bias

    def nearest_distance(self, x: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance to the nearest genre centre, per file."""
        xs = self._standardised(x)
        own = np.einsum("nd,nd->n", xs @ self.precision, xs)
        return np.maximum(own[:, None] - 2 * xs @ self.weights + self.centre_norms, 0.0).min(axis=1)

    def check(self) -> None:
        n_features, n_genres = self.weights.shape
        shapes = [a.shape for a in (self.mean, self.scale, self.bias, self.precision, self.centre_norms)]
        if shapes != [(n_features,), (n_features,), (n_genres,), (n_features, n_features), (n_genres,)]:
            raise ValueError(f"inconsistent shapes {shapes} for weights {self.weights.shape}")
        if not all(np.all(np.isfinite(getattr(self, name))) for name in self.ARRAYS):
            raise ValueError("values that are not finite")


@dataclass(frozen=True)
class Typicality:
    """How far the library's own held-out files lie from their nearest genre: the
    mean and spread of log squared distance in cross-validation. A file much
    further out than that is unlike anything the person tagged."""

    mean: float
    std: float

    def familiarity(self, distance: np.ndarray) -> np.ndarray:
        """1 for files as close as most of the library's own, falling to 0 for files
        more atypical than all but a sliver of it."""
        z = (np.log(np.maximum(distance, 1e-12)) - self.mean) / self.std
        tail = 0.5 * np.vectorize(math.erfc)(z / math.sqrt(2))
        return np.minimum(1.0, tail / FAMILIAR_TAIL)


@dataclass(frozen=True)
class Calibrator:
    """From a classifier's scores to probabilities that keep their promise. A
    temperature softens the scores; then the top suggestion's confidence is mapped by
    ``sigmoid(slope * logit(p) + offset - thin / files)``, fitted to how often the top
    suggestion was right out of fold, where ``files`` is how many tagged files the
    top genre was learned from: a genre on three files is wrong more often at the
    same score, and ``thin`` measures by how much. The other genres share what is
    left in proportion."""

    temperature: float = 1.0
    slope: float = 1.0
    offset: float = 0.0
    thin: float = 0.0
    files: tuple[int, ...] = ()  # per genre; empty: no genre counts as thin

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        p = softmax(np.atleast_2d(scores) / self.temperature)
        rows = np.arange(len(p))
        best = p.argmax(axis=1)
        top = np.clip(p[rows, best], 1e-9, 1 - 1e-9)
        shift = self.thin / np.asarray(self.files, np.float64)[best] if self.files else 0.0
        promised = 1.0 / (1.0 + np.exp(-(self.slope * (np.log(top) - np.log1p(-top)) + self.offset - shift)))
        # The map says how sure, never which genre: the top suggestion stays at least as
        # high as the runner-up after the others share what is left.
        runner_up = np.partition(p, -2, axis=1)[:, -2] if p.shape[1] > 1 else np.zeros(len(p))
        promised = np.maximum(promised, runner_up / np.maximum(1.0 - top + runner_up, 1e-12) + 1e-9)
        rest = (1.0 - promised) / np.maximum(1.0 - top, 1e-12)
        calibrated = p * rest[:, None]
        calibrated[rows, best] = promised
        return calibrated

    def to_json(self) -> dict:
        return {"temperature": self.temperature, "slope": self.slope, "offset": self.offset, "thin": self.thin,
                "files": list(self.files)}

    @classmethod
    def from_json(cls, doc: dict) -> Calibrator:
        return cls(float(doc["temperature"]), float(doc["slope"]), float(doc["offset"]), float(doc["thin"]),
                   tuple(int(n) for n in doc["files"]))


@dataclass(frozen=True)
class LearnedModel:
    """The learned classifier: the person's genres, the classifier their library
    chose, its calibration, and how far from the library a file may lie."""

    genres: list[str]  # class spellings: the library's most common one
    standardiser: Standardiser
    members: list[Member]  # the chosen classifier: one, or several whose probabilities are averaged
    discriminants: Discriminants  # for the typicality distance
    calibrator: Calibrator
    typicality: Typicality
    models_key: str  # the analysis models whose outputs the features come from
    report: LearnReport
    roots: list[str] = field(default_factory=list)  # the folders learned from, to learn again
    trained_at: float = 0.0

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, ``[files, genres]``, each row scaled by how
        familiar the file is: a file unlike anything in the library gets little."""
        scores = np.log(np.maximum(combined_probabilities(self.members, self.standardiser(x)), 1e-300))
        return self.calibrator.probabilities(scores) * self.familiarity(x)[:, None]

    def familiarity(self, x: np.ndarray) -> np.ndarray:
        """Per file, 1 where it lies as close to a learned genre as most of the library's
        own files, falling to 0 for a file unlike anything the person tagged."""
        return self.typicality.familiarity(self.discriminants.nearest_distance(x))

    def suggestions(self, x: np.ndarray, base: Sequence[GenreSuggestion], taxonomy: Taxonomy
                    ) -> list[GenreSuggestion]:
        """Every learned genre with its probability, and the base model's genres that
        the library does not have, best first. The base model speaks only for files
        unlike the library: its confidences are scaled by how unfamiliar the file is,
        so a file like the person's own gets their genres first, however unsure the
        library model is between them, and a file unlike anything they tagged (no jazz
        was ever tagged) gets the base model's. Scaling by the library model's doubt
        instead let the base genres lead on most files of a library whose own genres are
        hard to tell apart (benchmarks/learning.py: held-out top-1 0.05 against a plain
        logistic regression's 0.20 on the long-tail library)."""
        unfamiliar = 1.0 - float(self.familiarity(x)[0])
        p = self.probabilities(x)[0]
        learned = []
        for genre, probability in zip(self.genres, p):
            canonical = taxonomy.canonical(genre)
            family = taxonomy.family[canonical] if canonical else genre
            learned.append(GenreSuggestion(genre, family, float(probability), Source.LEARNED))
        key = vocabulary().key
        known = {key(g) for g in self.genres}
        fallback = [GenreSuggestion(g.genre, g.family, g.confidence * unfamiliar, Source.BASE)
                    for g in base if key(g.genre) not in known]
        return sorted(learned + fallback, key=lambda g: -g.confidence)

    def save(self, path: Path | None = None) -> Path:
        """Store the model; StateError, saying why in a sentence, where the data folder cannot take it."""
        from tagger.files.atomic import write_file_atomically

        path = path or default_model_path()
        meta = {
            "format": MODEL_FORMAT, "feature_version": FEATURE_VERSION, "models_key": self.models_key,
            "genres": self.genres, "calibrator": self.calibrator.to_json(), "typicality": self.typicality.__dict__,
            "members": [{"kind": m.kind, "temperature": m.temperature} for m in self.members],
            "roots": self.roots, "trained_at": self.trained_at, "report": self.report.to_json(),
        }
        buffer = io.BytesIO()
        # ensure_ascii: genre names from broken tags may hold lone surrogates.
        arrays = {name: getattr(self.discriminants, name) for name in Discriminants.ARRAYS}
        arrays.update(standard_mean=self.standardiser.mean, standard_scale=self.standardiser.scale)
        for i, member in enumerate(self.members):
            arrays.update({f"member{i}_weights": member.weights, f"member{i}_bias": member.bias})
        np.savez_compressed(buffer, meta=np.frombuffer(json.dumps(meta, ensure_ascii=True).encode("ascii"), np.uint8),
                            **{name: array.astype(np.float32) for name, array in arrays.items()})
        with state_errors("the learned model", path):
            path.parent.mkdir(parents=True, exist_ok=True)
            write_file_atomically(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: Path | None = None, models_key: str | None = None) -> LearnedModel:
        """The stored model; LearnedModelError if there is none, it is damaged, it
        comes from another version of Genre Tagger, or it was trained on other
        analysis models than ``models_key``."""
        path = path or default_model_path()
        if not path.exists():
            raise NoLearnedModel("no learned model yet: run `genre-tagger learn` on your tagged music")
        if problem := irregular_file(path, audio=False):
            raise LearnedModelError(f"the learned model {path} is {problem}; run `genre-tagger learn` again")
        try:
            with stored_arrays(path) as stored:
                meta = json.loads(stored["meta"].tobytes().decode("ascii"))
                if (meta["format"], meta["feature_version"]) != (MODEL_FORMAT, FEATURE_VERSION):
                    raise LearnedModelError(f"the learned model {path} was made by another version of "
                                            "Genre Tagger; run `genre-tagger learn` again")
                discriminants = Discriminants(**{k: stored[k].astype(np.float64) for k in Discriminants.ARRAYS})
                standardiser = Standardiser(stored["standard_mean"].astype(np.float64),
                                            stored["standard_scale"].astype(np.float64))
                members = [Member(str(m["kind"]), stored[f"member{i}_weights"].astype(np.float64),
                                  stored[f"member{i}_bias"].astype(np.float64), float(m["temperature"]))
                           for i, m in enumerate(meta["members"])]
            discriminants.check()
            check_members(members, standardiser, discriminants.weights.shape)
            model = cls(
                genres=[str(g) for g in meta["genres"]], standardiser=standardiser, members=members,
                discriminants=discriminants,
                calibrator=Calibrator.from_json(meta["calibrator"]), typicality=Typicality(**meta["typicality"]),
                models_key=str(meta["models_key"]), report=LearnReport.from_json(meta["report"]),
                roots=list(meta.get("roots", [])), trained_at=float(meta.get("trained_at", 0.0)),
            )
            if (len(model.genres) != discriminants.weights.shape[1] or not model.calibrator.temperature > 0
                    or len(model.calibrator.files) not in (0, len(model.genres))):
                raise ValueError("its genres do not match its weights")
        except LearnedModelError:
            raise
        except Exception as e:  # any damage at all makes the file unusable, and we say so
            raise LearnedModelError(f"the learned model {path} is damaged ({type(e).__name__}: {e}); "
                                    "run `genre-tagger learn` again") from None
        if models_key is not None and model.models_key != models_key:
            raise LearnedModelError(
                f"the learned model was trained on other analysis models ({model.models_key}); "
                "run `genre-tagger learn` to learn again from the same folders")
        return model


def stored_roots(path: Path | None = None) -> list[str]:
    """The folders a stored model learned from, even where the model itself cannot be
    used any more (made by another version, or for other analysis models): so a plain
    `learn` learns again from them. Empty where there is no readable record of them."""
    path = path or default_model_path()
    if irregular_file(path, audio=False):
        return []
    try:
        with stored_arrays(path) as stored:
            roots = json.loads(stored["meta"].tobytes().decode("ascii")).get("roots", [])
    except Exception:  # a damaged file names no folders; learning needs them given again
        return []
    return [str(r) for r in roots] if isinstance(roots, list) else []


def check_members(members: Sequence[Member], standardiser: Standardiser, shape: tuple[int, int]) -> None:
    """ValueError unless every member fits ``shape`` ([features, genres]) with finite values."""
    n_features, n_genres = shape
    if not members or standardiser.mean.shape != (n_features,) or standardiser.scale.shape != (n_features,):
        raise ValueError("no classifier, or a standardiser of the wrong size")
    for m in members:
        if m.kind not in (LINEAR, PROTOTYPE) or m.weights.shape != shape or m.bias.shape != (n_genres,):
            raise ValueError(f"a {m.kind!r} classifier of shape {m.weights.shape}, not {shape}")
        if not (np.all(np.isfinite(m.weights)) and np.all(np.isfinite(m.bias)) and m.temperature > 0):
            raise ValueError("values that are not finite")


class ModelChoice(TextEnum):
    """Which model ranks the genres: the learned one where it can be used, never, or only it."""

    AUTO = "auto"
    BASE = "base"
    LEARNED = "learned"

    @classmethod
    def named(cls, text: str) -> ModelChoice:
        """The choice ``--model`` names; "library", its name until the learned model was
        called what it is, still means learned."""
        return cls.LEARNED if text == "library" else cls(text)


def model_for(models_key: str, choice: ModelChoice = ModelChoice.AUTO, path: Path | None = None
              ) -> tuple[LearnedModel | None, str | None]:
    """The learned model that ``choice`` asks for, and why none is used where one
    exists but cannot be: ``auto`` uses it where it can, ``base`` never, and
    ``learned`` insists (LearnedModelError otherwise)."""
    choice = ModelChoice(choice)
    if choice is ModelChoice.BASE:
        return None, None
    try:
        return LearnedModel.load(path, models_key), None
    except NoLearnedModel:
        if choice is ModelChoice.LEARNED:
            raise
        return None, None
    except LearnedModelError as e:
        if choice is ModelChoice.LEARNED:
            raise
        return None, str(e)


@contextlib.contextmanager
def stored_arrays(path: Path) -> Iterator[np.lib.npyio.NpzFile]:
    """The arrays of a saved model. The file is ours to close: np.load leaves the one it
    opened itself open when the archive inside is damaged."""
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as stored:
        yield stored


def forget(path: Path | None = None) -> bool:
    """Remove the stored model; False if there was none."""
    path = path or default_model_path()
    with state_errors("the learned model", path):
        try:
            path.unlink()
        except FileNotFoundError:
            return False
    return True


@dataclass(frozen=True)
class LearnableGenres:
    """The library's genres as classes: which are learned, which are too thin, which are junk."""

    genres: list[str]  # learned, in the library's most common spelling, most files first
    files: dict[str, int]  # every genre's file count, learned or not, most first
    thin: dict[str, int]
    junk: dict[str, int]
    min_files: int = DEFAULT_MIN_FILES

    @classmethod
    def of(cls, tagged: Sequence[Sequence[str]], min_files: int) -> LearnableGenres:
        # One genre in any spelling or alias, spelt as the person chose by renaming, else as most files spell it.
        vocab = vocabulary()
        # A library repeats few combinations of genres: each is keyed once, and counted for its files.
        combinations = Counter(tuple(genres) for genres in tagged)
        names = (g for genres, n in combinations.items() for g in genres if not is_junk(g) for _ in range(n))
        spellings = preferred_spellings(names, vocab.key)
        spellings = {key: vocab.chosen(spelling) or spelling for key, spelling in spellings.items()}
        files: Counter[str] = Counter()
        junk: Counter[str] = Counter()
        for genres, n in combinations.items():
            files.update(dict.fromkeys({vocab.key(g) for g in genres if not is_junk(g)}, n))
            junk.update(dict.fromkeys({" ".join(g.split()) for g in genres if is_junk(g)}, n))
        counts = {spellings[k]: n for k, n in files.most_common()}
        return cls([g for g, n in counts.items() if n >= min_files], counts,
                   {g: n for g, n in counts.items() if n < min_files}, dict(junk), min_files)

    def check_learnable(self) -> None:
        """NothingToLearn unless two genres or more can be learned."""
        if len(self.genres) < 2:
            counts = ", ".join(f"{g} ({n})" for g, n in list(self.files.items())[:5])
            raise NothingToLearn(
                f"need at least two genres with {self.min_files} or more tagged files each, and found "
                f"{len(self.genres)}. Files per genre: {counts or 'none'}. Tag more files, "
                "or lower the minimum of files per genre")

    def targets(self, tagged: Sequence[Sequence[str]]) -> np.ndarray:
        """``[files, genres]`` target distributions: a file's weight split over its learned genres."""
        key = vocabulary().key
        index = {key(g): i for i, g in enumerate(self.genres)}
        y = np.zeros((len(tagged), len(self.genres)))
        for row, genres in enumerate(tagged):
            columns = sorted({index[k] for k in map(key, genres) if k in index})
            if columns:
                y[row, columns] = 1.0 / len(columns)
        return y


@dataclass(frozen=True)
class LearnPlan:
    """What Learn would learn, from the genres the rows' files carry: known before any
    audio is read. Genres are one genre in any spelling or alias, as learning counts them."""

    learned: dict[str, int]  # genre (the library's spelling) -> tagged files, most first
    thin: dict[str, int]  # genres on fewer than ``min_files`` files, most first
    files: int  # tagged files that carry a learned genre
    min_files: int

    @classmethod
    def of(cls, classes: LearnableGenres, tagged: Sequence[Sequence[str]]) -> LearnPlan:
        """The plan for files with the genres ``tagged``, as ``classes`` counted them."""
        key = vocabulary().key
        learned = {key(g) for g in classes.genres}
        files = sum(n for genres, n in Counter(tuple(g) for g in tagged).items()
                    if any(key(g) in learned for g in genres if not is_junk(g)))

        def ordered(counts: Mapping[str, int]) -> dict[str, int]:
            return dict(sorted(counts.items(), key=lambda gn: (-gn[1], gn[0].casefold())))

        return cls(ordered({g: classes.files[g] for g in classes.genres}), ordered(classes.thin), files,
                   classes.min_files)

    @property
    def enough(self) -> bool:
        """Whether there are two genres to tell apart: learning needs them."""
        return len(self.learned) >= 2

    def text(self) -> str:
        """"12 genres (Jazz, Rock, … and 7 more) will be learned from the 106 files tagged
        with them; 3 genres on a single file will not (Polka, Dub, Ska) — tag one more file
        of each". The files are counted once, however many genres each carries."""
        def names(genres: Mapping[str, int]) -> str:
            return ", ".join(list(genres)[:5]) + (f" and {len(genres) - 5} more" if len(genres) > 5 else "")

        if self.enough:
            parts = [f"{plural(len(self.learned), 'genre')} ({names(self.learned)}) will be learned from the "
                     f"{plural(self.files, 'file')} tagged with them"]
        elif self.learned:
            parts = [f"only {plural(len(self.learned), 'genre')} ({', '.join(self.learned)}) "
                     f"{'is' if len(self.learned) == 1 else 'are'} on {self.min_files} or more tagged files, and "
                     "learning needs two genres to tell apart"]
        else:
            parts = [f"no genre is on {self.min_files} or more tagged files yet, and learning needs two"]
        if self.thin:
            counts = set(self.thin.values())
            where = "a single file" if counts == {1} else f"fewer than {plural(self.min_files, 'file')}"
            missing = {self.min_files - n for n in counts}
            each = "of it" if len(self.thin) == 1 else "of each"
            todo = (f"tag {'one' if missing == {1} else min(missing)} more file{'s' if missing != {1} else ''} {each}"
                    if len(missing) == 1 else f"tag each up to {self.min_files} files")
            verb = "will not be" if self.enough else "cannot be"
            parts.append(f"{plural(len(self.thin), 'genre')} on {where} {verb} learned ({names(self.thin)}) — {todo}")
        return "; ".join(parts)


def learn_plan(tagged: Iterable[Sequence[str]], min_files: int = DEFAULT_MIN_FILES) -> LearnPlan:
    """What learning from files with these genres would learn, and what not, from the
    tags alone: both front ends say it before any audio is read."""
    tagged = [tuple(genres) for genres in tagged if genres]
    return LearnPlan.of(LearnableGenres.of(tagged, min_files), tagged)


@dataclass(frozen=True)
class Moments:
    """Sums over a set of files, enough to fit discriminants without the files: so the
    folds of a cross-validation are the whole library's sums minus each fold's."""

    n: int
    total: np.ndarray  # [features] sum of x
    gram: np.ndarray  # [features, features] sum of x xᵀ
    class_weight: np.ndarray  # [genres] sum of targets
    class_total: np.ndarray  # [genres, features] sum of target-weighted x

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> Moments:
        return cls(len(x), x.sum(axis=0), x.T @ x, y.sum(axis=0), y.T @ x)

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.total + other.total, self.gram + other.gram,
                       self.class_weight + other.class_weight, self.class_total + other.class_total)

    def __sub__(self, other: Moments) -> Moments:
        return Moments(self.n - other.n, self.total - other.total, self.gram - other.gram,
                       self.class_weight - other.class_weight, self.class_total - other.class_total)


def fit_discriminants(moments: Moments, shrinkage: float = SHRINKAGE) -> Discriminants:
    """Linear discriminant analysis on standardised features, with the shared
    within-genre covariance shrunk toward a multiple of the identity (there are more
    features than most libraries have files per genre). Each genre's prior is its
    share of the files."""
    n = moments.n
    mean = moments.total / n
    scale = np.sqrt(np.maximum(np.diag(moments.gram) / n - mean * mean, 0.0))
    scale[scale < 1e-6] = 1.0
    covariance = (moments.gram / n - np.outer(mean, mean)) / np.outer(scale, scale)
    weight = np.maximum(moments.class_weight, 1e-12)
    centres = (moments.class_total / weight[:, None] - mean) / scale
    within = covariance - (centres.T * (moments.class_weight / n)) @ centres
    d = len(mean)
    within = (1 - shrinkage) * within + shrinkage * np.trace(within) / d * np.eye(d)
    precision = np.linalg.inv(within)
    precision = (precision + precision.T) / 2
    weights = precision @ centres.T
    centre_norms = np.einsum("kd,dk->k", centres, weights)
    bias = -0.5 * centre_norms + np.log(np.maximum(moments.class_weight / n, 1e-12))
    return Discriminants(mean, scale, weights, bias, precision, centre_norms)


def fold_of_groups(groups: Sequence[str], folds: int) -> np.ndarray:
    """Each file's fold: whole groups (albums) go to one fold, largest first, each to
    the fold with the fewest files so far, so folds stay even and the result does
    not depend on the files' order."""
    sizes = Counter(groups)
    loads = [0] * folds
    assigned = {}
    for group, size in sorted(sizes.items(), key=lambda gs: (-gs[1], gs[0])):
        target = min(range(folds), key=lambda f: (loads[f], f))
        assigned[group] = target
        loads[target] += size
    return np.array([assigned[g] for g in groups])


def fit_calibrator(scores: np.ndarray, y: np.ndarray, files: Sequence[int] = ()) -> Calibrator:
    """A Calibrator fitted on out-of-fold ``scores`` against target distributions
    ``y``; ``files``, per genre, lets it learn how much less a thin genre deserves."""
    temperature = fit_temperature(scores, y)
    p = softmax(scores / temperature)
    best = p.argmax(axis=1)
    top = np.clip(p[np.arange(len(p)), best], 1e-9, 1 - 1e-9)
    right = (y[np.arange(len(y)), best] > 0).astype(float)
    top_logit = np.log(top) - np.log1p(-top)
    inverse_files = 1.0 / np.asarray(files, np.float64)[best] if len(files) else np.zeros(len(best))

    def nll(params: np.ndarray) -> float:
        slope, offset, thin = params
        promised = 1.0 / (1.0 + np.exp(-(slope * top_logit + offset - abs(thin) * inverse_files)))
        promised = np.clip(promised, 1e-9, 1 - 1e-9)
        # A light pull toward the identity map, which decides where few files cannot.
        penalty = 1e-3 * ((slope - 1.0) ** 2 + offset ** 2 + thin ** 2)
        return float(-(right * np.log(promised) + (1 - right) * np.log(1 - promised)).mean()) + penalty

    slope, offset, thin = nelder_mead(nll, np.array([1.0, 0.0, 0.0])).x
    return Calibrator(temperature, float(slope), float(offset), abs(float(thin)), tuple(int(n) for n in files))


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = RELIABILITY_BINS
                ) -> tuple[float, list[ReliabilityBin]]:
    """Expected calibration error and its table: stated top confidence against accuracy."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    table = []
    ece = 0.0
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    for b in range(bins):
        mask = which == b
        if mask.any():
            mean_confidence, accuracy = float(confidence[mask].mean()), float(correct[mask].mean())
            table.append(ReliabilityBin(float(edges[b]), float(edges[b + 1]), int(mask.sum()),
                                        mean_confidence, accuracy))
            ece += mask.mean() * abs(mean_confidence - accuracy)
    return float(ece), table


def train(files: Sequence[TaggedFile], models_key: str, min_files: int = DEFAULT_MIN_FILES,
          folds: int = FOLDS, roots: Sequence[str] = ()) -> LearnedModel:
    """Learn the library's genres; NothingToLearn if it offers no two genres to tell apart."""
    started = time.perf_counter()
    if not files:
        raise NothingToLearn(NO_TAGS)
    learnable = LearnableGenres.of([f.genres for f in files], min_files)
    learnable.check_learnable()
    y_all = learnable.targets([f.genres for f in files])
    usable = y_all.sum(axis=1) > 0
    kept = [f for f, ok in zip(files, usable) if ok]
    x = np.stack([f.features for f in kept])
    y = y_all[usable]
    genre_files = [learnable.files[g] for g in learnable.genres]
    groups, grouping = [f.group for f in kept], "album"
    validation = cross_validate(x, y, groups, folds)
    if validation is not None and validation.tested.mean() < 0.5:
        groups, grouping = [str(i) for i in range(len(kept))], "file"
        validation = cross_validate(x, y, groups, folds)
    standardiser = Standardiser.of(x)
    if validation is None or not validation.tested.any():
        # Nothing could be held out and tested: no basis for choosing, calibrating or doubting a file.
        from tagger.learning.classifiers import PLAIN_STRENGTH, fit_logistic

        member, _ = fit_logistic(standardiser(x), y, PLAIN_STRENGTH)
        members, calibrator, typicality = [member], Calibrator(), Typicality(0.0, 1e6)
        report = cross_validation_report(learnable, len(y), np.zeros_like(y), y, 0, 1.0,
                                         time.perf_counter() - started)
        everything = Moments.of(x, y)
    else:
        everything = validation.everything
        tested = validation.tested
        chosen = selection(groups, tested)
        fold = fold_of_groups([groups[i] for i in chosen], validation.folds)
        choice = choose(x, y, chosen, fold, tested[chosen])
        in_choice = tested[chosen]
        scores = np.log(np.maximum(choice.probabilities[in_choice], 1e-300))
        calibrator = fit_calibrator(scores, y[chosen][in_choice], genre_files)
        log_distance = np.log(np.maximum(validation.distance[tested], 1e-12))
        typicality = Typicality(float(log_distance.mean()), max(float(log_distance.std()), 1e-3))
        distance = validation.distance[chosen][in_choice]
        probabilities = calibrator.probabilities(scores) * typicality.familiarity(distance)[:, None]
        report = cross_validation_report(learnable, len(y), probabilities, y[chosen][in_choice], validation.folds,
                                         calibrator.temperature, time.perf_counter() - started, grouping,
                                         int((~tested).sum()))
        report = replace(report, model=choice.name, candidates=choice.candidates)
        members, standardiser = choice.members, choice.standardiser
    return LearnedModel(learnable.genres, standardiser, members, fit_discriminants(everything), calibrator,
                        typicality, models_key, report, list(roots), time.time())


def selection(groups: Sequence[str], tested: np.ndarray, most: int = SELECTION_FILES) -> np.ndarray:
    """The files cross-validation chooses the classifier on: all of them, or for a
    large library whole albums in an order fixed by their names, up to ``most`` files."""
    if len(groups) <= most:
        return np.arange(len(groups))
    import zlib

    order = sorted(set(groups), key=lambda g: zlib.crc32(g.encode("utf-8", "surrogatepass")))
    taken, count = set(), 0
    sizes = Counter(groups)
    for group in order:
        if count + sizes[group] > most and count:
            continue
        taken.add(group)
        count += sizes[group]
    return np.array([i for i, g in enumerate(groups) if g in taken])


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold scores with whole albums held out, from which the figures and calibration are made."""

    everything: Moments
    folds: int
    scores: np.ndarray  # [files, genres] each file's scores from the model that did not see its group
    distance: np.ndarray  # [files] its typicality distance under that model
    tested: np.ndarray  # [files] whether that model had seen any of its genres


def cross_validate(x: np.ndarray, y: np.ndarray, groups: Sequence[str], folds: int) -> CrossValidation | None:
    """Out-of-fold scores with whole groups held out; None for fewer than two groups."""
    n_folds = min(folds, len(set(groups)))
    if n_folds < 2:
        return None
    fold = fold_of_groups(groups, n_folds)
    # One pass over the files: each fold's sums, the library's as their total.
    parts = [Moments.of(x[fold == f], y[fold == f]) for f in range(n_folds)]
    everything = sum(parts[1:], parts[0])
    scores, distance, tested = np.zeros_like(y), np.zeros(len(y)), np.zeros(len(y), bool)
    for f in range(n_folds):
        held_out = fold == f
        rest = everything - parts[f]
        discriminants = fit_discriminants(rest)
        scores[held_out] = discriminants.logits(x[held_out])
        distance[held_out] = discriminants.nearest_distance(x[held_out])
        tested[held_out] = (y[held_out] * (rest.class_weight > 0)).sum(axis=1) > 0
    return CrossValidation(everything, n_folds, scores, distance, tested)


def cross_validation_report(learnable: LearnableGenres, files: int, p: np.ndarray, y: np.ndarray, folds: int,
                            temperature: float, seconds: float, grouping: str = "album",
                            untested: int = 0) -> LearnReport:
    """Figures for ``files`` learned files from the out-of-fold probabilities ``p`` of
    those that could be tested (targets ``y``): what the model says about albums, or
    files, it never saw."""
    truth = y > 0
    if folds < 2:  # nothing was held out and tested, so there are no honest figures
        return LearnReport(files, [GenreFigures(g, learnable.files[g], None, None) for g in learnable.genres],
                           learnable.thin, learnable.junk, math.nan, math.nan, math.nan, [], [],
                           temperature, folds, seconds, grouping, untested)
    order = np.argsort(-p, axis=1, kind="stable")
    top = order[:, 0]
    rows = np.arange(len(y))
    correct = truth[rows, top]
    top3 = truth[rows[:, None], order[:, :3]].any(axis=1)
    ece, table = reliability(p[rows, top], correct)
    figures = []
    for k, genre in enumerate(learnable.genres):
        predicted = top == k
        figures.append(GenreFigures(
            genre, learnable.files[genre],
            float(truth[predicted, k].mean()) if predicted.any() else None,
            float(predicted[truth[:, k]].mean()) if truth[:, k].any() else None,
        ))
    confusions: Counter[tuple[str, str]] = Counter()
    for row in np.flatnonzero(~correct):
        for actual in np.flatnonzero(truth[row]):
            confusions[(learnable.genres[actual], learnable.genres[top[row]])] += 1
    return LearnReport(
        files=files, genres=figures, thin=learnable.thin, junk=learnable.junk,
        top1=float(correct.mean()), top3=float(top3.mean()), expected_calibration_error=ece,
        reliability=table, confusions=[(a, b, n) for (a, b), n in confusions.most_common(20)],
        temperature=temperature, folds=folds, seconds=seconds, grouping=grouping, untested=untested,
        tested=len(y), calibration_interval=calibration_interval(p[rows, top], correct),
    )


def calibration_interval(confidence: np.ndarray, correct: np.ndarray, resamples: int = 200
                         ) -> tuple[float, float]:
    """The 5th and 95th percentile of the calibration error over bootstrap resamplings
    of the tested files: on a small library one number would promise too much."""
    rng = np.random.default_rng(0)
    errors = []
    for _ in range(resamples):
        pick = rng.integers(0, len(confidence), len(confidence))
        errors.append(reliability(confidence[pick], correct[pick])[0])
    low, high = np.percentile(errors, [5, 95])
    return float(low), float(high)


def agreement_interval(share: float, files: int) -> tuple[float, float]:
    """A 90% Wilson interval for a share measured on ``files`` files."""
    if files <= 0 or math.isnan(share):
        return (math.nan, math.nan)
    z = 1.645
    centre = (share + z * z / (2 * files)) / (1 + z * z / files)
    half = z * math.sqrt(share * (1 - share) / files + z * z / (4 * files * files)) / (1 + z * z / files)
    return (max(0.0, centre - half), min(1.0, centre + half))


# Below these a LearnReport's figure is poor, and its words say what would help.
POOR_TOP1 = 0.5
POOR_TOP3 = 0.75
POOR_CALIBRATION = 0.1


@dataclass(frozen=True)
class PlainWords:
    """A LearnReport as a person reads it; both front ends say these sentences."""

    figures: list[str]  # right first time, in the top three, how honest the percentages are
    classifier: str | None  # which classifier the library chose, and the runner-up's figures
    advice: list[str]  # what would help, where a figure is poor


def in_plain_words(report: LearnReport) -> PlainWords:
    """``report``'s figures in plain words, each with the range it could lie in on a
    library this size (90%), the classifier chosen, and what to do where a figure is poor."""
    if report.folds < 2 or math.isnan(report.top1):
        return PlainWords([], None, ["no tagged file could be held out and tested: tag files on more albums "
                                     "and learn again"])

    def between(low: float, high: float, unit: str = "%") -> str:
        if math.isnan(low) or math.isnan(high):
            return ""
        if unit == "%":
            return f"between {low:.0%} and {high:.0%}"
        return f"between {100 * low:.0f} and {100 * high:.0f} points"

    low, high = agreement_interval(report.top1, report.tested)
    size = between(low, high)
    figures = [f"{report.top1:.0%} right first time" + (f" (somewhere {size} on a library this size)" if size else "")]
    size = between(*agreement_interval(report.top3, report.tested))
    figures.append(f"{report.top3:.0%} in the top three" + (f" ({size})" if size else ""))
    if not math.isnan(report.expected_calibration_error):
        size = between(*report.calibration_interval, unit="points")
        figures.append(f"percentages honest to within {100 * report.expected_calibration_error:.0f} points on "
                       "average" + (f" ({size})" if size else ""))
    classifier = None
    if report.model and report.candidates:
        classifier = f"classifier: {report.model}, chosen by cross-validation on your files"
        if len(report.candidates) > 1:
            runner_up = report.candidates[1]
            classifier += (f"; the runner-up, {runner_up.name}, was right first time for {runner_up.top1:.0%} "
                           f"and in the top three for {runner_up.top3:.0%}")
    advice = []
    poor = (report.top1 < POOR_TOP1 or report.top3 < POOR_TOP3
            or report.expected_calibration_error > POOR_CALIBRATION)
    if poor:
        few = [g.genre for g in report.genres if g.few]
        if few:
            named = ", ".join(few[:5]) + (f" and {len(few) - 5} more" if len(few) > 5 else "")
            advice.append(f"tag a few more files of each genre marked few examples ({named}): each was learned "
                          f"from fewer than {FEW_EXAMPLES} files")
        if report.confusions:
            tagged, instead, files = report.confusions[0]
            advice.append(f"{tagged} was most often taken for {instead} ({files} file{'s' if files != 1 else ''}):"
                          " if the two are one genre to you, merge them; if not, tag more files of each")
        if report.grouping == "album" and report.top1 < POOR_TOP1:
            advice.append("where a genre sits on one or two albums, the model learns those albums rather than the "
                          "genre: tag tracks on more albums of each genre")
        if not advice:
            advice.append("tag more files of each genre, on more albums")
        advice[-1] += ", and learn again"
    return PlainWords(figures, classifier, advice)
