"""Long multi-step ops run as consecutive calls of about ``CHUNK_SECONDS`` each (every call
starting at its first step, so the bits are those of one call): Ctrl-C is honoured between them
and long runs show a progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable

from tqdm.auto import tqdm

#: Seconds of work per call of a chunked op: how soon Ctrl-C is honoured.
CHUNK_SECONDS = 0.25
#: Whether long runs show their bar (the CLI's --no-progress switches it off).
SHOW_PROGRESS = True


def progress(steps, desc: str):
    """``steps`` (an iterable with a length) behind a tqdm bar that appears once they have taken
    2 seconds (unless ``SHOW_PROGRESS`` is off)."""
    return tqdm(steps, desc=desc, delay=2.0, disable=not SHOW_PROGRESS, leave=False)


def run_chunked(total: int, first_chunk: int, run: Callable[[int, int], None], *,
                desc: str | None = None) -> None:
    """Calls run(start, n) over consecutive chunks covering steps [0, total), each sized to take
    about CHUNK_SECONDS (from the first chunk's pace), so that KeyboardInterrupt, which Python
    delivers between calls, arrives within about that long. With ``desc`` a tqdm bar appears once
    the run has taken 2 seconds (unless ``SHOW_PROGRESS`` is off)."""
    bar = tqdm(total=total, desc=desc, delay=2.0, disable=desc is None or not SHOW_PROGRESS,
               leave=False)
    try:
        start, chunk = 0, max(1, min(first_chunk, total))
        while start < total:
            n = min(chunk, total - start)
            began = time.perf_counter()
            run(start, n)
            elapsed = time.perf_counter() - began
            start += n
            bar.update(n)
            chunk = max(1, min(16 * n, int(n * CHUNK_SECONDS / max(elapsed, 1e-6))))
    finally:
        bar.close()
