"""Fuzzing: mutated files of every format through ``set`` and ``suggest`` (see support/fuzzing.py).

The default run takes a fixed, small set of mutants; the long run is marked ``fuzz``:

    python -m pytest -m fuzz --fuzz-count 600 --fuzz-seed 1 -s --basetemp /tmp/fuzz-run tests/system/test_fuzz.py

(600 mutants take about 8 to 11 minutes on two cores.) A failure lists each distinct
symptom once, with the mutant that showed it first and a command that rebuilds it from
its seed file; the seeds and mutants stay under --basetemp (pytest keeps only its last
three default temporary folders). All kinds but the Ogg ones are rebuilt identically by
``PYTHONPATH=tests python -m support.fuzzing KIND SEED``.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from support import fuzzing, tagfiles
from support.fuzzing import Mutation

from tagger.tags import read_tags

SMALL_COUNT = 30  # two mutants of each kind, about 25 s on two cores
SMALL_SEED = 20_000
WORKERS = min(2, os.cpu_count() or 1)


@pytest.fixture(scope="module")
def fuzz_seeds(tmp_path_factory):
    """One tagged file of every kind in tagfiles.KINDS; encoding them takes a few seconds."""
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    return {kind: tagfiles.make(folder, kind) for kind in tagfiles.KINDS}


def test_mutator_is_deterministic_and_reaches_tags_and_audio(fuzz_seeds):
    edges = body = 0
    for path in fuzz_seeds.values():
        data = path.read_bytes()
        for seed in range(20):
            mutant, mutations = fuzzing.plan_and_apply(data, seed)
            assert (mutant, mutations) == fuzzing.plan_and_apply(data, seed)
            assert fuzzing.apply(data, mutations) == mutant
            assert mutant != data and len(mutations) >= 1
            first = mutations[0].target
            assert first < fuzzing.EDGE or first >= len(data) - fuzzing.EDGE - 1  # the first hits the tag region
            for m in mutations:
                in_edge = m.target < 4096 or m.target >= len(data) - 4096
                edges += in_edge
                body += not in_edge
        assert fuzzing.mutate(data, 1) != fuzzing.mutate(data, 2)
    # Both the tags (first and last kilobytes) and the audio between them get a fair share.
    assert edges > 0.3 * (edges + body) and body > 0.2 * (edges + body)


def run_and_report(cases, work, **options) -> fuzzing.Campaign:
    started = time.perf_counter()
    campaign = fuzzing.run_campaign(cases, work, workers=WORKERS, **options)
    print(f"\nfuzz: {campaign.summary()}\nfuzz: {time.perf_counter() - started:.1f} s")
    return campaign


def test_mutants_of_every_format_neither_crash_nor_corrupt(fuzz_seeds, tmp_path):
    """A small fixed run: each mutant in its own `set` process, all of them in one `suggest`."""
    cases = fuzzing.make_cases(fuzz_seeds, SMALL_COUNT, SMALL_SEED, tmp_path / "mutants")
    campaign = run_and_report(cases, tmp_path, suggest_batch=SMALL_COUNT)
    assert not campaign.failures, campaign.summary()
    assert sum(campaign.set_statuses.values()) == SMALL_COUNT
    assert sum(campaign.suggest_statuses.values()) == SMALL_COUNT


@pytest.mark.fuzz
def test_fuzz_long_run(fuzz_seeds, tmp_path, request):
    """--fuzz-count mutants from --fuzz-seed on; the counts and every distinct failure are printed."""
    count = request.config.getoption("--fuzz-count")
    seed = request.config.getoption("--fuzz-seed")
    cases = fuzzing.make_cases(fuzz_seeds, count, seed, tmp_path / "mutants")
    campaign = run_and_report(cases, tmp_path, progress=lambda line: print(f"fuzz: {line}", flush=True))
    (tmp_path / "summary.txt").write_text(campaign.summary())
    assert not campaign.failures, campaign.summary()


def broken_files(seeds, folder):
    """Files the writer has to refuse, and a few mutants that may or may not be."""
    made = []

    def put(name, data):
        path = folder / name
        path.write_bytes(data)
        made.append(path)

    flac, mp3, m4a = (seeds[k].read_bytes() for k in ("flac", "mp3-id3v24", "m4a-aac"))
    put("50-bad-empty.wav", b"")
    put("50-bad-noise.m4a", fuzzing.rng_for(b"", 0).randbytes(20_000))
    put("51-bad-zeroed-head.flac", fuzzing.apply(flac, [Mutation("zero", 0, 64)]))
    put("52-bad-cut-in-tag.mp3", fuzzing.apply(mp3, [Mutation("truncate", 1000)]))
    moov_size = m4a.rfind(b"moov") - 4  # the moov atom holds the tags; its size now runs past the end
    put("53-bad-moov-size.m4a", fuzzing.apply(m4a, [Mutation("interesting", moov_size, data=b"\x7f\xff\xff\xff")]))
    for i, kind in enumerate(("wma", "ogg-vorbis", "wavpack", "aiff")):
        source = seeds[kind]
        put(f"54-mutant-{i}-{kind}{source.suffix}", fuzzing.mutate(source.read_bytes(), 7 + i))
    return made


def test_batch_set_carries_on_past_broken_files(fuzz_seeds, tmp_path):
    """One `set` over a folder: good files, broken ones in the middle, good ones after."""
    folder = tmp_path / "library"
    folder.mkdir()
    good = []
    for kind, seed in sorted(fuzz_seeds.items()):
        for prefix in ("00", "99"):
            path = folder / f"{prefix}-good-{kind}{seed.suffix}"
            path.write_bytes(seed.read_bytes())
            good.append(path)
    bad = broken_files(fuzz_seeds, folder)
    digests = {path: fuzzing.sha256(path) for path in bad}
    code, out, err, seconds = fuzzing.run_cli(["set", "--genre", "Fuzz", "--json", str(folder)],
                                              fuzzing.child_env(tmp_path / "home"), 120)
    print(f"\nbatch set of {len(good) + len(bad)} files: {seconds:.1f} s")
    assert code in (0, 1), f"exit {code}\n{err}"
    assert "Traceback" not in err, err
    records = [json.loads(line) for line in out.splitlines()]
    by_path = {r["path"]: r for r in records}
    assert len(records) == len(by_path) == len(good) + len(bad), out
    assert set(by_path) == {str(p) for p in good + bad}
    for path in good:
        assert by_path[str(path)]["status"] == "written", by_path[str(path)]
        assert read_tags(path).genres == ["Fuzz"]
    refused = [p for p in bad if by_path[str(p)]["status"] == "error"]
    assert len(refused) >= 4, [by_path[str(p)] for p in bad]  # the empty, noise, zeroed and moov ones at least
    for path in bad:
        status = by_path[str(path)]["status"]
        if status == "error":
            assert fuzzing.sha256(path) == digests[path], f"{path.name} was refused but changed"
        else:
            assert status == "written", by_path[str(path)]
            assert read_tags(path).genres == ["Fuzz"]
    assert code == 1
