"""Small text helpers every output shares: counted nouns, the first line of an error, a line and column."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """`1 object`, `2 objects`, `3 directories` (a consonant's -y becomes -ies; `days` stays)."""
    if count == 1:
        return f"1 {noun}"
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}s"


def first_line(text: str) -> str:
    """The first non-blank line, stripped: what a one-line diagnostic quotes of a library's error."""
    return next((line.strip() for line in text.splitlines() if line.strip()), text)


def line_col(text: str | bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset`; in bytes (a file that is not valid UTF-8) the column counts bytes."""
    newline = b"\n" if isinstance(text, bytes) else "\n"
    return text.count(newline, 0, offset) + 1, offset - (text.rfind(newline, 0, offset) + 1) + 1
