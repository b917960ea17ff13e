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
(b) browser: JupyterLab + headless Chromium (SwiftShader: WebGL on the CPU) run the
    same widget and t-SNE on the same 2 cores. The page counts the frames it draws per
    second and measures zooms (wheel events, in and out in turn: time to the second
    animation frame after the event) and hovers (real mouse moves onto drawn points:
    time until the tooltip shows the row, fetched from the kernel beyond its budget),
    (a) while t-SNE streams, (b) once it is stopped, (c) while the run's kept frames
    are replayed through the frame gate as fast as the page acknowledges them (what the
    page can draw). The page's JS heap (after gc) and the kernel's memory are sampled,
    to see that nothing grows without bound.

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
    from vae_widgets.widgets._frames import encode_frame

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
  const probe = window.__probe = {draws: [], zooms: [], hovers: [], heap: [], lastMove: null, zoomIn: true};
  // a frame drawn (not a trait update): data-drawn counts them
  new MutationObserver(() => probe.draws.push(performance.now()))
    .observe(root, {attributes: true, attributeFilter: ['data-drawn']});
  window.addEventListener('mousemove', () => { probe.lastMove = performance.now(); }, true);
  const tip = root.querySelector('.vw-tooltip');
  new MutationObserver(() => {
    if (probe.lastMove === null || tip.hidden) return;
    if (tip.querySelector('.vw-tooltip-value') && !tip.querySelector('.vw-tooltip-pending')) {
      probe.hovers.push(performance.now() - probe.lastMove);
      probe.lastMove = null;
    }
  }).observe(tip, {attributes: true, childList: true, subtree: true});
  // zoom in and out in turn (the camera never sticks at a zoom limit): every wheel
  // event makes the map redraw; the time to the second animation frame after it is
  // the time until the zoomed map can be on screen
  probe.zoom = () => new Promise((resolve) => {
    const c = root.querySelector('.vw-scatter-canvas');
    const r = c.getBoundingClientRect();
    const t0 = performance.now();
    probe.zoomIn = !probe.zoomIn;
    c.dispatchEvent(new WheelEvent('wheel', {deltaY: probe.zoomIn ? -60 : 60,
      clientX: r.x + r.width / 2, clientY: r.y + r.height / 2, bubbles: true, cancelable: true}));
    requestAnimationFrame(() => requestAnimationFrame(() => {
      probe.zooms.push(performance.now() - t0); resolve(); }));
  });
  // where point i is drawn now (CSS px in the scatter), from the view on the root element
  probe.pointAt = (i) => root.__vw.panels[0].scatter.screenPosition(i);
  probe.sampleHeap = () => {
    if (typeof gc === 'function') gc();    // Chromium started with --expose-gc: live objects only
    probe.heap.push(performance.memory ? performance.memory.usedJSHeapSize : null);
  };
  // share of (a sample of) the points drawn inside the scatter now: 0 is an empty map
  probe.onScreen = () => { const s = root.__vw.panels[0].scatter, n = s.positions.length >> 1;
    let k = 0, tot = 0;
    for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 5000))) { tot++; const p = s.screenPosition(i);
      if (p && p[0] >= 0 && p[0] <= s.width && p[1] >= 0 && p[1] <= s.height) k++; }
    return k / Math.max(1, tot); };
  probe.take = () => { const out = {draws: probe.draws, zooms: probe.zooms, hovers: probe.hovers,
    heap: probe.heap, fetches: +root.dataset.hoverFetches || 0, held: +root.dataset.held || 0,
    index: Object.assign({}, root.__vw.panels[0].scatter.indexStats || {}),
    lod: (() => { const s = root.__vw.panels[0].scatter; return Object.assign({}, s.lodStats || {},
      {drawn_now: s.lod ? s.lod.k : (s.xs ? s.xs.length : 0),
       us_per_point: s.budget && s.budget.msPerPoint !== null ? +(1000 * s.budget.msPerPoint).toFixed(3) : null}); })()};
    probe.draws = []; probe.zooms = []; probe.hovers = []; probe.heap = []; return out; };
  return true;
}"""

# kernel side of phase (c): the kept frames of the run, through the widget's own frame
# gate (throttled, acknowledged, latest wins), as fast as the page takes them
REPLAY = """
import threading, time
def _replay(seconds):
    h = w.runner.frame_history
    t0, k = time.time(), 0
    while time.time() - t0 < seconds:
        it, f = h.frame(k % len(h))
        w._offer_frame({{"iteration": int(it), "phase": "main", "key": False}}, f)
        k += 1
        time.sleep(0.02)
threading.Thread(target=_replay, args=({seconds},), daemon=True).start()
"""


def _summary(name: str, part: dict) -> dict:
    """Median / p95 of the latencies and the drawing rate of one phase; printed."""
    def pct(v, q):
        return statistics.quantiles(v, n=20)[int(q * 20) - 1] if len(v) >= 2 else float("nan")

    d = part["draws"]
    span = (d[-1] - d[0]) / 1000 if len(d) > 1 else float("nan")
    out = {"frames_drawn": len(d), "fps": (len(d) - 1) / span if len(d) > 1 and span > 0 else None}
    for key in ("zooms", "hovers"):
        v = part[key]
        out[key] = {"n": len(v), "median_ms": statistics.median(v) if v else None,
                    "p95_ms": pct(v, 0.95)}
    out["heap_mb"] = [h / 2**20 for h in part["heap"] if h]
    # frames held back while the user's hand was on the map (slow draws), so far
    out["frames_held"] = part.get("held")
    # spatial indexes so far: reused while streaming, built in the worker, or on the page
    out["index_builds"] = part.get("index")
    # level of detail so far: draws of a subsample (thinned) and of every point (whole),
    # points drawn at the end of the phase, the learnt cost of a point (us)
    out["lod"] = part.get("lod")
    fps = f"{out['fps']:.2f} frames/s drawn ({len(d)})" if out["fps"] else f"{len(d)} frames drawn"
    z, h = out["zooms"], out["hovers"]
    print(f"  {name}: {fps}; zoom median {z['median_ms'] or float('nan'):.0f} ms, p95 "
          f"{z['p95_ms']:.0f} ms ({z['n']}); hover median {h['median_ms'] or float('nan'):.0f} ms, "
          f"p95 {h['p95_ms']:.0f} ms ({h['n']}); spatial indexes so far {out['index_builds']}; "
          f"frames held for the user so far {out['frames_held']}; level of detail {out['lod']}")
    return out


def browser(n: int, iters: int, seconds: float = 90.0) -> dict:
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import labharness
    from labharness import kernel_exec, lab_server, launch, open_notebook, run_all, write_notebook
    from playwright.sync_api import sync_playwright

    labharness.CHROMIUM_ARGS = [*labharness.CHROMIUM_ARGS, "--js-flags=--expose-gc"]
    print(f"== (b) headless Chromium (software WebGL) and t-SNE of {n:,} points, one machine",
          flush=True)
    root = pathlib.Path(tempfile.mkdtemp(prefix="tsne1m-"))
    # screenshots: benchmarks/tsne_1m_browser*.png at 1M, tsne_<n>_browser*.png otherwise
    stem = "tsne_1m_browser" if n == 1_000_000 else f"tsne_{n}_browser"
    write_notebook(root / "bench.ipynb", [
        f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
        "from tsne_1m import table, HOVER, PARAMS\n"
        "from vae_widgets import TSNEWidget\n"
        f"df, emb = table({n})\n"
        f"w = TSNEWidget(df, features=emb, color='category', tooltip=HOVER, "
        f"early_exaggeration_iter={iters}, n_iter={iters}, **PARAMS)\n"
        "w",
    ])
    rss = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    out = {}
    with lab_server(root) as (base, token), sync_playwright() as pw:
        b = launch(pw)
        page = b.new_page(viewport={"width": 1280, "height": 1000})
        open_notebook(page, base, token, "bench.ipynb", timeout=600_000)
        run_all(page)
        page.locator(".vw-tsne").wait_for(timeout=900_000)
        page.evaluate(PAGE_PROBE)
        # point positions (screenPosition) are CSS px in the canvas, which sits inside .vw-scatter
        box = page.locator(".vw-tsne .vw-scatter-canvas").bounding_box()

        def probe_round(k):
            """One zoom, one hover onto a drawn point, one heap sample."""
            page.evaluate("() => window.__probe.zoom()")
            page.evaluate("() => window.__probe.sampleHeap()")
            p = page.evaluate(f"() => window.__probe.pointAt({(k * 7919) % n})")
            if p:
                page.mouse.move(box["x"] + p[0] + 20, box["y"] + p[1] + 20)
                page.mouse.move(box["x"] + p[0], box["y"] + p[1])
                page.wait_for_timeout(600)

        # (a) while t-SNE optimises (frames come as fast as openTSNE makes them)
        kernel_exec(page, "w.run()")
        page.wait_for_function("() => document.querySelector('.vw-tsne').dataset.phase"
                               " === 'early_exaggeration'", timeout=3_600_000, polling=500)
        page.evaluate("() => window.__probe.take()")    # (drop the draws of the set-up)
        t0, k, kernel_rss = time.perf_counter(), 0, []
        while time.perf_counter() - t0 < seconds:
            if page.eval_on_selector(".vw-tsne", "el => el.dataset.status") != "running":
                break
            probe_round(k)
            k += 1
            if k % 5 == 0:
                kernel_rss.append(int(kernel_exec(page, rss).strip()) / 1024)
        out["streaming"] = _summary("while t-SNE streams", page.evaluate("() => window.__probe.take()"))
        # what the map looks like while it moves (a zoom: thinned where it cannot be drawn in time)
        page.evaluate("() => window.__probe.zoom()")
        page.locator(".vw-tsne").screenshot(path=str(root / "moving.png"))
        shutil.copy(root / "moving.png", HERE / f"{stem}_moving.png")
        out["streaming"]["frames_received"] = int(page.eval_on_selector(
            ".vw-tsne", "el => el.dataset.frames"))
        out["streaming"]["seconds"] = time.perf_counter() - t0
        kernel_exec(page, "w.stop(); w.wait()", timeout=600_000)
        # (b) stopped: the same probes with nothing else going on
        for k in range(20):
            probe_round(1000 + k)
        out["idle"] = _summary("stopped, nothing streaming", page.evaluate("() => window.__probe.take()"))
        # (c) the kept frames replayed through the frame gate: what the page can draw
        kernel_exec(page, REPLAY.format(seconds=40))
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 40:
            probe_round(2000 + k)
            k += 1
        page.wait_for_timeout(3000)
        out["replay"] = _summary("kept frames replayed as fast as the page acks",
                                 page.evaluate("() => window.__probe.take()"))
        kernel_rss.append(int(kernel_exec(page, rss).strip()) / 1024)
        out["kernel_peak_rss_mb"] = kernel_rss
        out["hover_fetches"] = int(page.eval_on_selector(".vw-tsne", "el => el.dataset.hoverFetches"))
        # the map must not be empty (a zoom early in the run once left every point off screen)
        out["on_screen"] = page.evaluate("() => window.__probe.onScreen()")
        print(f"  points on screen at the end: {out['on_screen']:.0%}"
              + ("  <- EMPTY MAP" if out["on_screen"] == 0 else ""))
        page.screenshot(path=str(root / "bench.png"))
        shutil.copy(root / "bench.png", HERE / f"{stem}.png")
        b.close()
    heap = out["streaming"]["heap_mb"] + out["idle"]["heap_mb"] + out["replay"]["heap_mb"]
    if heap:
        print(f"  page JS heap after gc: {heap[0]:,.0f} MB first, {heap[-1]:,.0f} MB last, "
              f"{max(heap):,.0f} MB max ({len(heap)} samples)")
    print(f"  kernel peak RSS (MB): {', '.join(f'{v:,.0f}' for v in kernel_rss)}; "
          f"{out['hover_fetches']} hover rows fetched from the kernel")
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
