"""The X stream's line splitter: the same lines whatever the read sizes, long lines skipped whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingester.xclient import LineSplitter


def split_in(chunks: list[bytes], max_bytes: int = 1 << 20) -> tuple[list[bytes], int]:
    splitter = LineSplitter(max_bytes)
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines, splitter.oversized


@given(
    st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")), max_size=20),
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=20),
    st.booleans(),
)
def test_any_chunking_gives_the_lines_of_the_stream(lines: list[bytes], cuts: list[int], crlf: bool) -> None:
    stream = b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines)
    chunks, pos, i = [], 0, 0
    while pos < len(stream):
        chunks.append(stream[pos : pos + cuts[i % len(cuts)]])
        pos += cuts[i % len(cuts)]
        i += 1
    assert split_in(chunks) == (lines, 0)


def test_a_line_over_the_limit_is_skipped_whole_and_counted_once() -> None:
    # Given a limit of 10 bytes: a 25-byte line arriving in three reads, between two short lines
    chunks = [b"ok1\r\n" + b"x" * 8, b"x" * 9, b"x" * 8 + b"\r\nok2\n"]
    # Then the long line is neither returned nor buffered past the limit, and counted once
    assert split_in(chunks, max_bytes=10) == ([b"ok1", b"ok2"], 1)


def test_lines_at_the_limit_are_kept_and_one_over_is_not() -> None:
    assert split_in([b"a" * 10 + b"\n"], max_bytes=10) == ([b"a" * 10], 0)
    assert split_in([b"a" * 11 + b"\n"], max_bytes=10) == ([], 1)
    assert split_in([b"a" * 5, b"a" * 6 + b"\nb\n"], max_bytes=10) == ([b"b"], 1)
