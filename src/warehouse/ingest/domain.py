"""Per-agent sequence numbers: the contiguous watermark that acks carry, and the gaps above it."""

from __future__ import annotations

from collections.abc import Iterable


def advance(acked: int, committed: Iterable[int]) -> tuple[int, list[tuple[int, int]]]:
    """Advance ``acked`` over the committed seqs above it; return it and the missing ranges.

    >>> advance(4, [5, 6, 9, 10, 12])
    (6, [(7, 8), (11, 11)])
    """
    watermark = previous = acked
    gaps: list[tuple[int, int]] = []
    for seq in sorted({s for s in committed if s > acked}):
        if seq > previous + 1:
            gaps.append((previous + 1, seq - 1))
        elif not gaps:
            watermark = seq
        previous = seq
    return watermark, gaps


def contiguous_end(acked: int, seqs: Iterable[int]) -> int:
    """The highest seq reached from ``acked`` through ``seqs`` without a gap.

    A batch usually carries the next seqs of each agent; what it reaches this way needs no
    look at what earlier batches committed.

    >>> contiguous_end(4, [7, 5, 6, 3])
    7
    >>> contiguous_end(4, [6, 7])
    4
    """
    end = acked
    for seq in sorted(seqs):
        if seq == end + 1:
            end = seq
        elif seq > end:
            break
    return end
