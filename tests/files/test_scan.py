import os

from tagger.files.scan import scan


def events(*roots):
    return [(e.path, e.problem) for e in scan(list(roots))]


def test_folders_are_scanned_recursively_in_name_order(tmp_path):
    for name in ["b/2.flac", "b/1.MP3", "a.ogg", "c/d/e.opus", "notes.txt", "cover.jpg"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p, problem in events(tmp_path) if problem is None]
    assert found == ["a.ogg", "b/1.MP3", "b/2.flac", "c/d/e.opus"]


def test_named_files_are_taken_whatever_their_extension(tmp_path):
    path = tmp_path / "song.data"
    path.write_bytes(b"x")
    assert events(path) == [(path, None)]


def test_missing_path_and_folder_without_audio_are_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("hi")
    result = events(tmp_path / "nope", tmp_path / "docs")
    assert result == [
        (tmp_path / "nope", "no such file or folder"),
        (tmp_path / "docs", "no audio files found in this folder"),
    ]


def test_symlink_loop_is_reported_not_followed_forever(tmp_path):
    (tmp_path / "music").mkdir()
    (tmp_path / "music" / "a.flac").write_bytes(b"x")
    os.symlink(tmp_path, tmp_path / "music" / "loop")
    result = events(tmp_path)
    files = [p for p, problem in result if problem is None]
    problems = [(p, problem) for p, problem in result if problem]
    assert files == [tmp_path / "music" / "a.flac"]
    assert problems == [(tmp_path / "music" / "loop", problems[0][1])]
    assert "symlink loop" in problems[0][1]


def test_unreadable_folder_is_reported(shared_tmp):
    from support.privileges import run_unprivileged

    locked = shared_tmp / "locked"
    locked.mkdir()
    (locked / "a.flac").write_bytes(b"x")
    locked.chmod(0o000)
    try:
        result = run_unprivileged(lambda: events(shared_tmp))
    finally:
        locked.chmod(0o755)
    assert (locked, "cannot read folder: Permission denied") in result
