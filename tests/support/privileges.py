"""Running a check where file permission bits apply, even when the tests run as root."""

from __future__ import annotations

import os


def run_unprivileged(fn):
    """Call ``fn`` where permission bits apply: directly for a normal user, and in a
    forked child that drops to the 'nobody' user when the tests run as root (as CI
    does), since root reads files whatever their mode."""
    import pickle

    if os.geteuid() != 0:
        return fn()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(65534)
            os.setuid(65534)
            payload = pickle.dumps(("ok", fn()))
        except BaseException as e:  # reported to the parent, which fails the test
            payload = pickle.dumps(("error", repr(e)))
        os.write(write_end, payload)
        os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    status, value = pickle.loads(b"".join(chunks))
    if status == "error":
        raise AssertionError(f"unprivileged call failed: {value}")
    return value


def unprivileged_refusal(call, error: type[Exception]) -> str | None:
    """The message of the ``error`` that ``call()`` raises where permission bits apply
    (see run_unprivileged), or None if it raises nothing."""

    def attempt():
        try:
            call()
        except error as e:
            return str(e)
        return None

    return run_unprivileged(attempt)
