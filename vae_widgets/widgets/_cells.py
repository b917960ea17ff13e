"""IPython's cells and a watched loop: the run ends when the cell that ran it ends."""
from __future__ import annotations

import threading
import weakref


def finish_runs_after_cells(widget) -> None:
    """In IPython, end a watched loop's run when the cell that ran it finishes (final grids,
    status done or stopped). Holds the widget weakly: the hook goes away with it.

    Only a cell of the main shell counts: with kernel subshells (ipykernel >= 7) a cell run
    in a subshell console ("New Subshell Console for Notebook" in JupyterLab) ends on the
    subshell's thread while the loop's cell still runs on the main thread."""
    try:
        from IPython import get_ipython
        ip = get_ipython()
    except Exception:   # noqa: BLE001 - no IPython: the run ends at finish()
        return
    if ip is None:
        return
    ref = weakref.ref(widget)
    main = threading.main_thread().ident

    def after_cell(*_):
        w = ref()
        if w is None:
            ip.events.unregister("post_run_cell", after_cell)
            return
        loop = w._loop
        if loop.running and loop._thread == main and threading.get_ident() == main:
            loop.finish()

    ip.events.register("post_run_cell", after_cell)
