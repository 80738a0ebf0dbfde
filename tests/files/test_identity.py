"""A file's fingerprint, which tells the file a batch planned for from one changed since."""

import os


def test_the_fingerprint_covers_both_ends_of_a_large_file(tmp_path):
    from tagger.files.identity import EDGE_BYTES, fingerprint

    path = tmp_path / "large.bin"
    data = bytearray(os.urandom(3 * EDGE_BYTES))
    path.write_bytes(data)
    st = path.stat()
    before = fingerprint(path)
    for offset in (10, len(data) - 10):  # the first and the last MiB
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        path.write_bytes(changed)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert fingerprint(path) != before
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fingerprint(path) == before
