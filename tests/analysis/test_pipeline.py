import threading
import time

import numpy as np
import pytest

from tagger.analysis.analyzer import FileResult, JobControl
from tagger.analysis.pipeline import (
    AnalysisPipeline,
    FileStarted,
    PipelineConfig,
    Progress,
)
from tagger.audio.excerpt import Depth
from tagger.resources import samples_dir

DEMO = sorted(p for p in samples_dir().iterdir() if p.suffix in {".ogg", ".mp3", ".opus"})


def test_results_keep_input_order_and_survive_bad_files(analyzer, tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_text("not audio")
    paths = [DEMO[0], bad, tmp_path / "missing.ogg", DEMO[1]]
    results = list(AnalysisPipeline(analyzer).results(paths))
    assert [r.path for r in results] == paths
    assert [r.ok for r in results] == [True, False, False, True]
    assert "not a decodable audio file" in results[1].error
    assert results[2].error == "no such file"


def test_batches_mixing_files_give_each_file_its_own_outputs(analyzer):
    # One inference thread with batches bigger than a file: every batch mixes files.
    mixed = AnalysisPipeline(analyzer, Depth.FULL, config=PipelineConfig(2, 1, 24))
    for result in mixed.results(DEMO):
        alone = analyzer.analyse(result.path, Depth.FULL)
        assert [s.start_s for s in result.analysis.segments] == [s.start_s for s in alone.segments]
        for name, probabilities in alone.patch_probabilities.items():
            np.testing.assert_allclose(result.analysis.patch_probabilities[name], probabilities, atol=1e-5)
        assert [g.genre for g in result.analysis.genres[:3]] == [g.genre for g in alone.genres[:3]]


def test_events_report_starts_results_and_progress(analyzer, make_audio):
    paths = [make_audio(f"song{i}.flac", seconds=4.0) for i in range(4)]
    events = list(AnalysisPipeline(analyzer).events(paths))
    started = [e.path for e in events if isinstance(e, FileStarted)]
    results = [e for e in events if isinstance(e, FileResult)]
    progress = [e for e in events if isinstance(e, Progress)]
    assert sorted(started) == sorted(paths) and sorted(r.path for r in results) == sorted(paths)
    assert [p.finished for p in progress] == [1, 2, 3, 4]
    assert progress[-1].total == 4 and progress[-1].eta_s == 0 and progress[-1].files_per_s > 0
    for result in results:  # a file's result comes after its start
        assert events.index(FileStarted(result.path)) < events.index(result)


def test_a_prioritised_file_overtakes_the_queue(analyzer, make_audio):
    queued = [make_audio(f"song{i}.flac", seconds=20.0, rate=16000, channels=1) for i in range(10)]
    urgent = make_audio("urgent.flac", seconds=4.0)
    pipeline = AnalysisPipeline(analyzer, Depth.FULL, config=PipelineConfig(1, 1, 2))
    finished = []
    for event in pipeline.events(queued):
        if isinstance(event, FileResult):
            finished.append(event.path)
            if len(finished) == 1:
                pipeline.prioritise(urgent)
    assert sorted(finished) == sorted(queued + [urgent])
    # Queued last, it would finish last; prioritised, only the file being decoded
    # when it was asked for (and one already in inference) may finish before it.
    assert finished.index(urgent) <= 3


def test_cancel_stops_a_batch_within_a_second(analyzer, make_audio):
    paths = [make_audio(f"song{i}.flac", seconds=60.0, rate=16000, channels=1) for i in range(12)]
    control = JobControl()
    timer = threading.Timer(0.5, control.cancel)
    started = time.perf_counter()
    timer.start()
    results = list(AnalysisPipeline(analyzer, Depth.FULL, control).results(paths))
    elapsed = time.perf_counter() - started
    assert control.cancelled
    assert len(results) < len(paths)
    assert elapsed < 1.5  # the cancel came at 0.5 s; in-flight files stop at their next region
    assert not [t for t in threading.enumerate() if t.name.startswith("analysis-")]


def test_cancelled_files_are_not_cached(analyzer, make_audio, tmp_path):
    from tagger.analysis.analyzer import Analyzer
    from tagger.analysis.cache import AnalysisCache

    cache = AnalysisCache(tmp_path / "cache.sqlite")
    cached_analyzer = Analyzer(models=analyzer.models, cache=cache)
    paths = [make_audio(f"long{i}.flac", seconds=60.0, rate=16000, channels=1) for i in range(4)]
    control = JobControl()
    threading.Timer(0.3, control.cancel).start()
    done = list(AnalysisPipeline(cached_analyzer, Depth.FULL, control).results(paths))
    assert cache.info().entries == len(done)
    again = list(AnalysisPipeline(cached_analyzer, Depth.FULL).results(paths))
    assert all(r.ok for r in again)
    for result in again:  # anything cached came from a complete analysis
        assert result.analysis.patches_analysed == result.analysis.total_patches == 20


def test_pause_holds_new_files_until_resumed(analyzer, make_audio):
    paths = [make_audio(f"song{i}.flac", seconds=5.0) for i in range(3)]
    control = JobControl()
    control.pause()
    threading.Timer(0.6, control.resume).start()
    started = time.perf_counter()
    results = list(AnalysisPipeline(analyzer, control=control).results(paths))
    assert time.perf_counter() - started >= 0.6
    assert [r.ok for r in results] == [True, True, True]


def test_closing_the_stream_early_stops_the_threads(analyzer, make_audio):
    paths = [make_audio(f"song{i}.flac", seconds=30.0, rate=16000, channels=1) for i in range(8)]
    events = AnalysisPipeline(analyzer, Depth.FULL).events(paths)
    next(e for e in events if isinstance(e, FileStarted))
    events.close()
    assert not [t for t in threading.enumerate() if t.name.startswith(("analysis-decode", "analysis-infer"))]


def test_a_scan_problem_is_a_failed_result(analyzer, tmp_path):
    from tagger.files.scan import scan

    results = list(AnalysisPipeline(analyzer).results(scan([tmp_path / "nowhere"])))
    assert len(results) == 1 and not results[0].ok


@pytest.mark.parametrize("provider, inference_threads, batch", [("CPUExecutionProvider", 2, 2),
                                                                ("CUDAExecutionProvider", 1, 128)])
def test_config_follows_the_device(analyzer, monkeypatch, provider, inference_threads, batch):
    monkeypatch.setattr(analyzer.models, "provider", provider)
    monkeypatch.setattr(analyzer, "threads", 2)
    config = PipelineConfig.for_analyzer(analyzer)
    assert (config.decoders, config.inference_threads, config.batch_patches) == (2, inference_threads, batch)


def test_prioritising_a_file_further_down_the_input_analyses_it_once(analyzer, make_audio):
    queued = [make_audio(f"song{i}.flac", seconds=20.0, rate=16000, channels=1) for i in range(10)]
    pipeline = AnalysisPipeline(analyzer, Depth.FULL, config=PipelineConfig(1, 1, 2))
    events = list_events_prioritising(pipeline, queued, queued[-1], ordered=True)
    results = [e.path for e in events if isinstance(e, FileResult)]
    # Each input once; the prioritised one as soon as it is done, the rest in order.
    assert sorted(results) == sorted(queued) and results.index(queued[-1]) <= 2
    assert [p for p in results if p != queued[-1]] == queued[:-1]
    assert [e.path for e in events if isinstance(e, FileStarted)].count(queued[-1]) == 1
    assert [e for e in events if isinstance(e, Progress)][-1].finished == 10


def list_events_prioritising(pipeline, items, path, ordered=False):
    events = []
    for event in pipeline.events(items, ordered=ordered):
        events.append(event)
        if isinstance(event, FileStarted) and len(events) == 1:
            assert pipeline.prioritise(path)
    return events


def test_a_finished_or_cancelled_run_refuses_a_priority_file(analyzer, make_audio):
    path = make_audio("late.flac", seconds=3.0)
    pipeline = AnalysisPipeline(analyzer)
    list(pipeline.events([path]))
    assert not pipeline.prioritise(path)
    control = JobControl()
    control.cancel()
    assert not AnalysisPipeline(analyzer, control=control).prioritise(path)


def test_an_unforeseen_failure_fails_one_file_without_a_traceback(analyzer, make_audio, monkeypatch, caplog):
    """A bug or an unlisted exception in any stage is that file's error record: the
    other files are analysed, and nothing is logged with a traceback (the CLI showed
    them on stderr)."""
    import logging

    import tagger.analysis.analyzer as analysis

    paths = [make_audio(f"song{i}.flac", seconds=4.0) for i in range(4)]
    in_begin, in_decode = paths[1], paths[2]
    real_fingerprint, real_open = analysis.fingerprint, analysis.open_audio

    def fingerprint(path):
        if path == in_begin:
            raise AttributeError("'NoneType' object has no attribute 'sample_rate'")
        return real_fingerprint(path)

    class BrokenReader:
        def __init__(self, reader):
            self.reader, self.info = reader, reader.info

        def read(self, start_s, length_s):
            raise UnicodeDecodeError("utf-8", b"\x97", 0, 1, "invalid start byte")

        def close(self):
            self.reader.close()

    def open_audio(path):
        reader = real_open(path)
        return BrokenReader(reader) if path == in_decode else reader

    monkeypatch.setattr(analysis, "fingerprint", fingerprint)
    monkeypatch.setattr(analysis, "open_audio", open_audio)
    with caplog.at_level(logging.INFO):
        results = list(AnalysisPipeline(analyzer).results(paths))
    assert [r.path for r in results] == paths
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].error == "internal error: AttributeError: 'NoneType' object has no attribute 'sample_rate'"
    assert results[2].error.startswith("internal error: UnicodeDecodeError: 'utf-8' codec can't decode")
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
