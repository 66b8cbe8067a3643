"""What the benchmarks share: CPU time of a call, and writing a result into its region of
docs/benchmarks.md.

CPU time (`time.process_time`), not wall time: the machine is shared, and a neighbour's load
stretches wall time but not the CPU seconds this process spends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def cpu_seconds[T](run: Callable[[], T]) -> tuple[T, float]:
    """`run()`'s result and the CPU seconds it took."""
    start = time.process_time()
    result = run()
    return result, time.process_time() - start


def write_region(doc: Path, start: str, end: str, body: str) -> None:
    """Replace only the text between the markers `start` and `end` in `doc`; append them if
    absent."""
    text = doc.read_text(encoding="utf-8")
    if start not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{start}\n{body}\n{end}{tail}", encoding="utf-8")
