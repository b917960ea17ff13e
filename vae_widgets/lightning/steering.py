"""Stop and Pause, decided by every rank of a DDP run together, at the same batches."""
from __future__ import annotations

import atexit
import time

import torch
import torch.distributed as _dist

#: batches between two checks for Stop and Pause (at least; a multiple of it once the
#: step time is known): one small collective, on every rank at once
CHECK_EVERY = 8
#: seconds rank 0 aims for between two checks (fast steps are checked less often)
CHECK_SECONDS = 0.25
#: the most batches between two checks
CHECK_MAX = 4096
#: seconds between two checks while paused (every rank waits in the same hook)
PAUSE_POLL_S = 0.2


class _Steering:
    """Stop and Pause, decided together by every rank at the same batches.

    One batch before each check, every rank starts one asynchronous all-reduce (max) of
    three numbers (stop, pause, and rank 0's proposal for the batches to the next check)
    on a CPU (gloo) group; at the check it reads the result. DDP ranks move in lockstep
    (every step all-reduces the gradients), so by then every rank has joined and the read
    does not wait in the usual case: no barrier, no device sync, and every rank acts on
    the same decision at the same batch. Checks start ``check_every`` batches apart; rank
    0 then proposes a multiple of ``check_every`` that spaces them about
    ``CHECK_SECONDS`` apart (fast steps: fewer collectives), which every rank adopts at
    the same check. A click so acts within one spacing and a batch (about 0.25 s, or
    ``check_every + 1`` batches of slow steps). While paused, every rank polls with a
    blocking all-reduce.

    Without ``torch.distributed`` (one process, or a strategy that does not use it)
    the decision is made at once: the flags themselves, or Lightning's
    ``reduce_boolean_decision``.
    """

    def __init__(self, trainer, check_every: int = CHECK_EVERY):
        self.trainer = trainer
        self.check_every = self.spacing = int(check_every)
        self.next_check = self.spacing            # batch count of the next check
        self._pending = None                      # (work, tensor) asked one batch before it
        self._last = None                         # (batches, time) when last asked
        self.group = None
        if trainer.world_size <= 1:
            self.mode = "local"
        elif _dist.is_available() and _dist.is_initialized():
            self.mode = "dist"
            self.group = _control_group()
            _destroy_groups_at_exit()
        else:
            self.mode = "strategy"

    def due(self, batches: int) -> bool:
        """Whether :meth:`check` has something to do at this batch count: the check itself,
        or (with ``torch.distributed``) asking the batch before it."""
        lead = 1 if self.mode == "dist" and self._pending is None else 0
        return batches >= self.next_check - lead

    def check(self, batches: int, stop: bool, pause: bool, propose: bool) -> tuple[bool, bool]:
        """At a due batch, on every rank: what every rank does now, ``(stop, pause)``.
        ``propose``: this rank measures the step time and proposes the spacing (rank 0)."""
        if self.mode != "dist":
            self.next_check = batches + self.spacing
            return self.now(stop, pause)
        decided = (False, False)
        if self._pending is not None and batches >= self.next_check:
            work, t = self._pending
            self._pending = None
            work.wait()
            got = t.tolist()
            decided = (got[0] > 0, got[1] > 0)
            self.spacing = max(self.check_every, int(got[2]))
            self.next_check = batches + self.spacing
        # ask for the next check one batch ahead (a decision is acted on before asking again)
        if self._pending is None and not any(decided) and batches >= self.next_check - 1:
            t = torch.tensor([int(stop), int(pause), self._proposal(batches) if propose else 0],
                             dtype=torch.int64)
            self._pending = (_dist.all_reduce(t, op=_dist.ReduceOp.MAX, group=self.group,
                                              async_op=True), t)
            self._last = (batches, time.perf_counter())
        return decided

    def _proposal(self, batches: int) -> int:
        """Batches to put between checks: about CHECK_SECONDS of this rank's steps."""
        if self._last is None or batches <= self._last[0]:
            return self.spacing
        step_s = (time.perf_counter() - self._last[1]) / (batches - self._last[0])
        k = int(CHECK_SECONDS / max(step_s, 1e-6) / self.check_every)
        return min(max(1, k) * self.check_every, max(CHECK_MAX, self.check_every))

    def now(self, stop: bool, pause: bool) -> tuple[bool, bool]:
        """A blocking decision (every rank calls it at the same point)."""
        if self.mode == "local":
            return bool(stop), bool(pause)
        if self.mode == "dist":
            t = torch.tensor([int(stop), int(pause)], dtype=torch.int64)
            _dist.all_reduce(t, op=_dist.ReduceOp.MAX, group=self.group)
            return tuple(v > 0 for v in t.tolist())
        decide = self.trainer.strategy.reduce_boolean_decision
        return bool(decide(bool(stop), all=False)), bool(decide(bool(pause), all=False))

    def close(self, wait: bool = True) -> None:
        """End of training: let the last check's all-reduce finish on every rank (after
        an exception another rank may never join it, so it is only dropped)."""
        pending, self._pending = self._pending, None
        if pending is not None and wait:
            pending[0].wait()
        elif pending is not None:
            _AT_EXIT.append("dropped")


def _control_group():
    """The process group for the steering flags: the default one when it is gloo (CPU),
    else one gloo group next to it (made once per default group, by every rank in the
    same hook), so the flags never touch a GPU stream."""
    if _dist.get_backend() == "gloo":
        return None
    world = _dist.group.WORLD
    group = _CONTROL_GROUPS.get(id(world))
    if group is None:
        group = _CONTROL_GROUPS[id(world)] = _dist.new_group(backend="gloo")
    return group


_CONTROL_GROUPS: dict = {}


_AT_EXIT = []


def _destroy_groups_at_exit() -> None:
    """Once per process: destroy the process groups when the interpreter exits, if
    nobody did. Lightning does so for NCCL only; a gloo group left to the interpreter's
    finalization aborts the process now and then ("terminate called without an active
    exception", pytorch#190489): under ``ddp_spawn``, one rank's crash at exit fails the
    whole ``fit`` after training ended. atexit runs while the interpreter is whole. Not
    after a run that dropped a collective (an exception): destroying the group would wait
    for it, which another rank may never join."""
    if not _AT_EXIT:
        _AT_EXIT.append(True)
        atexit.register(_destroy_groups)


def _destroy_groups() -> None:
    if "dropped" in _AT_EXIT:
        return
    _CONTROL_GROUPS.clear()
    if _dist.is_available() and _dist.is_initialized():
        _dist.destroy_process_group()
