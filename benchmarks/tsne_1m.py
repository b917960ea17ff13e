"""TSNEWidget on a million table rows: kernel memory, bytes per frame, and what a
headless Chromium draws while t-SNE streams.

(a) memory: two fresh processes hold the same table (``datasets.reviews(n)``: a
    16-D "sentence embedding", texts, categories, prices, dates). One runs bare
    openTSNE on the embedding columns; the other a ``TSNEWidget`` of the whole
    table (colour by category, hover text, search) whose frames go to a stand-in
    front end that acknowledges each at once (so the widget sends every frame it
    can). Reported: peak resident memory of each (``ru_maxrss``; target: widget <=
    2x bare), wall time, frames sent and bytes per frame (exact float32 key frames,
    uint16-quantised frames between them).
(b) browser: JupyterLab + headless Chromium (SwiftShader WebGL, CPU) run the same
    widget and t-SNE; while frames stream the page counts the frames drawn per
    second, zooms (wheel events) and hovers (real mouse moves over points, text
    fetched from the kernel beyond its budget) and measures the time until the next
    painted frame (zoom) or until the tooltip shows the row (hover); the page's JS
    heap and the kernel's memory are sampled, to see that nothing grows without bound.

Usage:
    python benchmarks/tsne_1m.py [--n 1000000] [--iters 40] [--only memory browser]
                                 [--out results.json]

The t-SNE runs few iterations (``--iters`` early exaggeration + ``--iters`` main):
the costs measured here are per frame and per byte, not the quality of the map.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
PARAMS = dict(perplexity=10, neighbors="annoy", n_jobs=2, random_state=0)
HOVER = ["title", "text", "rating", "price"]


def table(n: int):
    from vae_widgets import datasets

    df = datasets.reviews(n, dims=16, seed=0)
    return df, [c for c in df.columns if c.startswith("e")]


# ---------------------------------------------------------------- (a) one process each
def child_bare(n: int, iters: int) -> dict:
    import numpy as np
    import openTSNE

    df, emb = table(n)
    t0 = time.perf_counter()
    X = df[emb].to_numpy(dtype=np.float64)
    E = openTSNE.TSNE(early_exaggeration_iter=iters, n_iter=iters, **PARAMS).fit(X)
    return {"seconds": time.perf_counter() - t0, "shape": list(np.asarray(E).shape)}


def child_widget(n: int, iters: int) -> dict:
    from vae_widgets import TSNEWidget
    from vae_widgets.widgets.traits import encode_frame

    df, emb = table(n)
    t0 = time.perf_counter()
    w = TSNEWidget(df, features=emb, color="category", tooltip=HOVER,
                   early_exaggeration_iter=iters, n_iter=iters, frame_interval=0.0, **PARAMS)
    sizes = {"key": [], "quantised": []}

    class FrontEnd:
        """Receives what the widget sends and acknowledges every frame at once."""
        kernel = "bench"
        comm_id = "bench"

        def send(self, data=None, metadata=None, buffers=None):
            content = (data or {}).get("content") or {}
            if content.get("type") == "frame":
                kind = "quantised" if content.get("encoding") == "u16" else "key"
                sizes[kind].append(sum(memoryview(b).nbytes for b in buffers or []))
                w._gate.ack(content["id"])

        def on_msg(self, cb):
            pass

        def close(self, *a, **k):
            pass

    w.comm = FrontEnd()
    w.run()
    w.wait()
    key_exact = encode_frame(w.embedding, key=True)[1].nbytes
    return {"seconds": time.perf_counter() - t0, "frames": {k: len(v) for k, v in sizes.items()},
            "bytes_per_frame": {k: (statistics.mean(v) if v else None) for k, v in sizes.items()},
            "float32_frame_bytes": key_exact, "status": w.status}


def run_child(kind: str, n: int, iters: int) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--n", str(n), "--iters", str(iters)]
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory(n: int, iters: int) -> dict:
    print(f"== (a) kernel memory at n={n:,} ({iters}+{iters} iterations, "
          f"perplexity {PARAMS['perplexity']}, Annoy, {PARAMS['n_jobs']} threads)", flush=True)
    bare = run_child("bare", n, iters)
    widget = run_child("widget", n, iters)
    bare["table_rss_mb"] = table_rss(n)
    ratio = widget["peak_rss_mb"] / bare["peak_rss_mb"]
    print(f"  bare openTSNE  peak {bare['peak_rss_mb']:8,.0f} MB   {bare['seconds']:6.1f} s "
          f"(table alone: {bare['table_rss_mb']:,.0f} MB)")
    print(f"  TSNEWidget     peak {widget['peak_rss_mb']:8,.0f} MB   {widget['seconds']:6.1f} s "
          f"-> {ratio:.2f}x bare (target <= 2)")
    f, b = widget["frames"], widget["bytes_per_frame"]
    print(f"  frames sent: {f['key']} key (exact float32, {b['key'] or 0:,.0f} B each), "
          f"{f['quantised']} between (uint16, {b['quantised'] or 0:,.0f} B each; float32 would be "
          f"{widget['float32_frame_bytes']:,} B)")
    return {"bare": bare, "widget": widget, "ratio": ratio}


# ---------------------------------------------------------------- (b) in the browser
PAGE_PROBE = """() => {
  const root = document.querySelector('.vw-tsne');
  const probe = window.__probe = {draws: [], zooms: [], hovers: [], heap: [], lastMove: null};
  const frames = () => +root.dataset.frames;
  // a frame drawn (not a trait update): data-drawn counts them
  new MutationObserver(() => probe.draws.push([performance.now(), +root.dataset.iteration]))
    .observe(root, {attributes: true, attributeFilter: ['data-drawn']});
  window.addEventListener('mousemove', () => { probe.lastMove = performance.now(); }, true);
  const tip = root.querySelector('.vw-tooltip');
  new MutationObserver(() => {
    if (probe.lastMove === null || tip.hidden) return;
    const rows = tip.querySelectorAll('.vw-tooltip-value').length;
    if (rows && !tip.querySelector('.vw-tooltip-pending')) {
      probe.hovers.push(performance.now() - probe.lastMove);
      probe.lastMove = null;
    }
  }).observe(tip, {attributes: true, childList: true, subtree: true});
  probe.zoom = () => new Promise((resolve) => {
    const c = root.querySelector('.vw-scatter-canvas');
    const r = c.getBoundingClientRect();
    const t0 = performance.now();
    c.dispatchEvent(new WheelEvent('wheel', {deltaY: -60, clientX: r.x + r.width / 2,
      clientY: r.y + r.height / 2, bubbles: true, cancelable: true}));
    requestAnimationFrame(() => requestAnimationFrame(() => {
      probe.zooms.push(performance.now() - t0); resolve(); }));
  });
  // where point i is drawn now (CSS px in the scatter), from the view on the root element
  probe.pointAt = (i) => root.__vw.panels[0].scatter.screenPosition(i);
  probe.sampleHeap = () => {
    if (typeof gc === 'function') gc();    // Chromium started with --expose-gc: live objects only
    probe.heap.push([performance.now(), performance.memory ? performance.memory.usedJSHeapSize : null]);
  };
  return frames();
}"""


def browser(n: int, iters: int, seconds: float = 90.0) -> dict:
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import labharness
    from labharness import kernel_exec, lab_server, launch, open_notebook, run_all, write_notebook
    from playwright.sync_api import sync_playwright

    labharness.CHROMIUM_ARGS = [*labharness.CHROMIUM_ARGS, "--js-flags=--expose-gc"]

    print(f"== (b) headless Chromium while t-SNE streams {n:,} points", flush=True)
    root = pathlib.Path(tempfile.mkdtemp(prefix="tsne1m-"))
    write_notebook(root / "bench.ipynb", [
        f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
        "from tsne_1m import table, HOVER, PARAMS\n"
        "from vae_widgets import TSNEWidget\n"
        f"df, emb = table({n})\n"
        f"w = TSNEWidget(df, features=emb, color='category', tooltip=HOVER, "
        f"early_exaggeration_iter={iters}, n_iter={iters}, **PARAMS)\n"
        "w",
    ])
    out = {}
    with lab_server(root) as (base, token), sync_playwright() as pw:
        b = launch(pw)
        page = b.new_page(viewport={"width": 1280, "height": 1000})
        open_notebook(page, base, token, "bench.ipynb", timeout=600_000)
        run_all(page)
        page.locator(".vw-tsne").wait_for(timeout=900_000)
        rss = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        page.wait_for_function("() => +document.querySelector('.vw-tsne').dataset.frames >= 0",
                               timeout=600_000)
        page.evaluate(PAGE_PROBE)
        kernel_exec(page, "w.run()")
        page.wait_for_function("() => document.querySelector('.vw-tsne').dataset.phase"
                               " === 'early_exaggeration'", timeout=1_800_000, polling=500)
        t_start = time.perf_counter()
        box = page.locator(".vw-tsne .vw-scatter").bounding_box()
        kernel_rss, k = [], 0
        while time.perf_counter() - t_start < seconds:
            status = page.eval_on_selector(".vw-tsne", "el => el.dataset.status")
            if status not in ("running", "affinities", "preparing"):
                break
            page.evaluate("() => window.__probe.zoom()")
            page.evaluate("() => window.__probe.sampleHeap()")
            # hover: a real mouse move onto a point drawn on the map (a different one each time)
            p = page.evaluate(f"() => window.__probe.pointAt({(k * 7919) % n})")
            if p:
                page.mouse.move(box["x"] + p[0] + 20, box["y"] + p[1] + 20)
                page.mouse.move(box["x"] + p[0], box["y"] + p[1])
                page.wait_for_timeout(600)
            k += 1
            if k % 5 == 0:
                kernel_rss.append(int(kernel_exec(page, rss).strip()) / 1024)
        t_run = time.perf_counter() - t_start
        probe = page.evaluate("() => ({draws: window.__probe.draws, zooms: window.__probe.zooms,"
                              " hovers: window.__probe.hovers, heap: window.__probe.heap,"
                              " frames: +document.querySelector('.vw-tsne').dataset.frames,"
                              " fetches: +document.querySelector('.vw-tsne').dataset.hoverFetches})")
        kernel_exec(page, "w.stop(); w.wait()")
        page.screenshot(path=str(root / "bench.png"))
        shutil.copy(root / "bench.png", HERE / "tsne_1m_browser.png")
        b.close()
    draws = probe["draws"]
    span = (draws[-1][0] - draws[0][0]) / 1000 if len(draws) > 1 else float("nan")
    fps = (len(draws) - 1) / span if len(draws) > 1 and span > 0 else float("nan")
    pct = lambda v, q: statistics.quantiles(v, n=20)[int(q * 20) - 1] if len(v) >= 2 else float("nan")
    heap = [h for _, h in probe["heap"] if h]
    out = {"seconds": t_run, "frames_received": probe["frames"], "frames_drawn": len(draws),
           "fps": fps, "zoom_ms": probe["zooms"], "hover_ms": probe["hovers"],
           "zoom_median_ms": statistics.median(probe["zooms"]) if probe["zooms"] else None,
           "zoom_p95_ms": pct(probe["zooms"], 0.95),
           "hover_median_ms": statistics.median(probe["hovers"]) if probe["hovers"] else None,
           "hover_p95_ms": pct(probe["hovers"], 0.95), "hover_fetches": probe["fetches"],
           "js_heap_mb": [h / 2**20 for h in heap], "kernel_peak_rss_mb": kernel_rss}
    print(f"  {out['frames_drawn']} frames drawn in {span:.1f} s: {fps:.2f} fps "
          f"({out['frames_received']} received)")
    print(f"  zoom -> next painted frame: median {out['zoom_median_ms'] or float('nan'):.0f} ms, "
          f"p95 {out['zoom_p95_ms']:.0f} ms ({len(probe['zooms'])} zooms)")
    print(f"  hover -> tooltip with its row: median {out['hover_median_ms'] or float('nan'):.0f} ms, "
          f"p95 {out['hover_p95_ms']:.0f} ms ({len(probe['hovers'])} hovers, "
          f"{probe['fetches']} rows fetched from the kernel)")
    if heap:
        print(f"  page JS heap: {heap[0] / 2**20:,.0f} MB at the start, {heap[-1] / 2**20:,.0f} MB "
              f"at the end (max {max(heap) / 2**20:,.0f} MB)")
    if kernel_rss:
        print(f"  kernel peak RSS samples (MB): {', '.join(f'{v:,.0f}' for v in kernel_rss)}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--iters", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=90.0, help="browser: how long to probe")
    ap.add_argument("--only", nargs="*", choices=["memory", "browser"], default=["memory", "browser"])
    ap.add_argument("--out", type=pathlib.Path, default=None, help="write the numbers as JSON")
    ap.add_argument("--child", choices=["bare", "widget"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        res = (child_bare if a.child == "bare" else child_widget)(a.n, a.iters)
        res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(res))
        return
    results = {"n": a.n, "iters": a.iters, "params": PARAMS}
    if "memory" in a.only:
        results["memory"] = memory(a.n, a.iters)
    if "browser" in a.only:
        results["browser"] = browser(a.n, a.iters, a.seconds)
    if a.out:
        a.out.write_text(json.dumps(results, indent=1, default=float))
        print(f"wrote {a.out}")


def table_rss(n: int) -> float:
    """Peak memory of a fresh process that only makes the table (the shared baseline)."""
    code = (f"import resource, sys; sys.path.insert(0, {str(HERE)!r}); from tsne_1m import table; "
            f"df = table({n}); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return int(out.stdout.strip().splitlines()[-1]) / 1024 if out.returncode == 0 else float("nan")


if __name__ == "__main__":
    main()
