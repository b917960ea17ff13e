"""``FrameHistory``: the frames of one run, in bounded memory, for replay and trails.

It keeps at most ``max_frames`` float32 frames *and* at most ``max_bytes`` of
them (whichever bound is smaller), spread over the whole run: when full, every
second kept frame is dropped and from then on only every second offered frame is
kept (the stride doubles). So a long run keeps evenly thinned frames from its
start (early exaggeration is usually the interesting part) to its end, rather
than only its last seconds; the newest frame is always kept.

Defaults: 200 frames or 64 MiB (a frame is n × 2 × 4 bytes: 200 frames of 20,000
points are 32 MiB; 70,000 points get 119 frames).
"""
from __future__ import annotations

import threading

import numpy as np

MAX_FRAMES = 200
MAX_BYTES = 64 * 2**20


class FrameHistory:
    """Thinned, bounded history of (iteration, float32 (n, 2) frame) pairs.

    Parameters
    ----------
    max_frames : int
        Most frames kept (at least 2).
    max_bytes : int
        Most bytes of frames kept; fewer frames are kept for large n.
    """

    def __init__(self, max_frames: int = MAX_FRAMES, max_bytes: int = MAX_BYTES):
        if int(max_frames) < 2:
            raise ValueError(f"max_frames must be at least 2, got {max_frames!r}.")
        if int(max_bytes) < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes!r}.")
        self.max_frames = int(max_frames)
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()   # the worker adds while the kernel reads
        self.clear()

    def clear(self) -> None:
        """Forget every frame (a new run starts)."""
        with self._lock:
            self._frames: list[np.ndarray] = []
            self._iterations: list[int] = []
            self._last: tuple[int, np.ndarray] | None = None
            self._offered = 0
            self.stride = 1

    def capacity(self, n_points: int) -> int:
        """Frames kept for ``n_points`` points (at least 2)."""
        per_frame = max(1, n_points * 2 * 4)
        return max(2, min(self.max_frames, self.max_bytes // per_frame))

    def add(self, iteration: int, frame: np.ndarray) -> None:
        """Offer a frame (float32 (n, 2); kept by reference, so do not modify it later)."""
        frame = np.asarray(frame, dtype=np.float32)
        with self._lock:
            k = self._offered
            self._offered += 1
            self._last = (int(iteration), frame)
            if k % self.stride:
                return
            if self._iterations and self._iterations[-1] == int(iteration):
                self._frames[-1] = frame            # same iteration again (a key frame)
                return
            self._frames.append(frame)
            self._iterations.append(int(iteration))
            # the newest frame is held apart (_last), so thin one slot early
            if len(self._frames) >= self.capacity(frame.shape[0]):
                self._frames = self._frames[::2]
                self._iterations = self._iterations[::2]
                self.stride *= 2

    def _items(self):
        frames, its = list(self._frames), list(self._iterations)
        if self._last is not None and (not its or its[-1] != self._last[0]):
            frames.append(self._last[1])
            its.append(self._last[0])
        elif self._last is not None:
            frames[-1] = self._last[1]
        return its, frames

    def __len__(self) -> int:
        with self._lock:
            return len(self._items()[0])

    @property
    def iterations(self) -> np.ndarray:
        """Iteration of each kept frame, ascending (int64 (k,))."""
        with self._lock:
            return np.asarray(self._items()[0], dtype=np.int64)

    def frame(self, index: int) -> tuple[int, np.ndarray]:
        """(iteration, frame) of the kept frame at ``index`` (negative counts from the end)."""
        with self._lock:
            its, frames = self._items()
        if not its:
            raise IndexError("no frames kept yet; run t-SNE first.")
        if not -len(its) <= index < len(its):
            raise IndexError(f"frame index {index} is outside 0..{len(its) - 1}.")
        return its[index], frames[index]

    def as_array(self) -> np.ndarray:
        """Every kept frame stacked: float32 (k, n, 2) (a copy)."""
        with self._lock:
            _, frames = self._items()
        if not frames:
            return np.zeros((0, 0, 2), dtype=np.float32)
        return np.stack(frames)

    def trails(self, indices) -> np.ndarray:
        """Positions of points ``indices`` in every kept frame: float32 (k, m, 2)."""
        idx = np.asarray(indices, dtype=np.int64)
        with self._lock:
            _, frames = self._items()
        if not frames:
            return np.zeros((0, len(idx), 2), dtype=np.float32)
        return np.stack([f[idx] for f in frames])

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(f.nbytes for f in self._items()[1])
