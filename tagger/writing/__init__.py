"""Writing genres safely: the journal, the writer and its checks that nothing else changed."""
