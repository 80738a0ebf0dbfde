"""Words for people: OS errors described, and verbs that agree with their count."""

import errno

import pytest

from tagger.text import describe_os_error as describe
from tagger.text import has


@pytest.mark.parametrize("code, text", [(errno.ENOSPC, "the disk is full"), (errno.EACCES, "permission denied"),
                                        (errno.EPERM, "permission denied"),
                                        (errno.EROFS, "the file system is read-only"),
                                        (errno.ENOENT, "the file is gone"), (errno.EIO, "I/O broke")])
def test_os_errors_are_described_in_words(code, text):
    assert describe(OSError(code, "I/O broke")) == text


def test_an_os_error_without_text_is_still_described():
    assert describe(OSError("no errno, no strerror")) == "no errno, no strerror"


def test_has_agrees_with_the_count():
    assert [has(n) for n in (0, 1, 2)] == ["have", "has", "have"]
