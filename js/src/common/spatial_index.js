// Spatial indexes (hover and lasso hit-testing) of large frames, built in a
// worker so the page stays responsive while a million points stream in.
//
// regl-scatterplot builds its KDBush index on the main thread, or, from a
// million points on, in a worker it feeds with the points as a million small
// arrays (a structured clone that itself blocks the page for about a second).
// Here the x and y coordinates travel as two transferred Float32Arrays and the
// finished index comes back as an ArrayBuffer that scatterplot.draw() accepts
// as `spatialIndex`. The worker's source is bundled in by build.mjs (the widget
// stays one offline ES module; the worker starts from a Blob URL).
//
// Fallback: without the bundled source (unit tests), without Worker, when the
// page forbids blob: workers (a strict CSP), when the worker fails or does not
// answer within TIMEOUT_MS, spatialIndex() resolves to null and the caller lets
// regl-scatterplot build the index itself. After a failure the worker is not
// tried again on this page.

/* global __VW_SPATIAL_INDEX_WORKER__ */
const SOURCE = typeof __VW_SPATIAL_INDEX_WORKER__ === "string" ? __VW_SPATIAL_INDEX_WORKER__ : null;
const TIMEOUT_MS = 15000;

let worker = null;
let broken = false;
let nextId = 0;
const waiting = new Map(); // id -> {resolve, timer}

function settle(id, buffer) {
  const w = waiting.get(id);
  if (!w) return;
  waiting.delete(id);
  clearTimeout(w.timer);
  w.resolve(buffer instanceof ArrayBuffer ? buffer : null);
}

function fail() {
  broken = true;
  try {
    worker?.terminate();
  } catch (_) {
    /* ignore */
  }
  worker = null;
  for (const id of [...waiting.keys()]) settle(id, null);
}

function start() {
  if (worker || broken) return worker;
  if (!SOURCE || typeof Worker !== "function" || typeof Blob !== "function") {
    broken = true;
    return null;
  }
  try {
    const url = URL.createObjectURL(new Blob([SOURCE], { type: "text/javascript" }));
    worker = new Worker(url, { name: "vae_widgets spatial index" });
    URL.revokeObjectURL(url);
  } catch (_) {
    broken = true; // no blob: workers here
    return null;
  }
  worker.onmessage = ({ data }) => {
    if (data.error) fail();
    else settle(data.id, data.buffer);
  };
  worker.onerror = fail; // e.g. a CSP that refuses the blob: script
  return worker;
}

/** Whether spatialIndex() can use a worker on this page (so far). */
export function workerAvailable() {
  return !broken && !!SOURCE && typeof Worker === "function";
}

/**
 * The KDBush index of points (xs[i], ys[i]) as an ArrayBuffer, built off the
 * main thread; null when no worker can be used. xs and ys are copied (the
 * copies are transferred), so the caller keeps its arrays.
 */
export function spatialIndex(xs, ys) {
  const w = start();
  if (!w) return Promise.resolve(null);
  const id = ++nextId;
  const x = Float32Array.from(xs), y = Float32Array.from(ys);
  return new Promise((resolve) => {
    waiting.set(id, { resolve, timer: setTimeout(fail, TIMEOUT_MS) });
    try {
      w.postMessage({ id, xs: x, ys: y }, [x.buffer, y.buffer]);
    } catch (_) {
      fail();
    }
  });
}
