"""A rank of a two-process gloo group that steers like the callback (used by
tests/lightning/test_callbacks.py: python -m support.exit_ranks RDV OUT DROP)."""
import atexit
import pathlib
import sys
import types

import torch.distributed as dist


def rank(r, rdv, out, drop):
    dist.init_process_group("gloo", init_method=f"file://{rdv}", rank=r, world_size=2)
    # registered first, so it runs last (atexit is last in, first out): what is left then
    atexit.register(lambda: pathlib.Path(out, f"rank{r}").write_text(
        str(dist.is_initialized())))
    from vae_widgets.lightning.steering import _Steering

    s = _Steering(types.SimpleNamespace(world_size=2, strategy=None), check_every=4)
    for b in range(1, 40):
        if s.due(b):
            s.check(b, False, False, propose=r == 0)
    s.check(s.next_check - 1, False, False, propose=r == 0)    # one left pending
    s.close(wait=not drop)         # drop: as after an exception


if __name__ == "__main__":
    import torch.multiprocessing as mp

    mp.start_processes(rank, args=(sys.argv[1], sys.argv[2], sys.argv[3] == "1"), nprocs=2,
                       start_method="spawn")
