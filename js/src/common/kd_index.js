// The KDBush index (the serialised format regl-scatterplot reads as its
// `spatialIndex`) of points (xs[i], ys[i]). Used by the spatial-index worker
// (spatial_index.worker.js); a module of its own so it can be tested on its own.
import KDBush from "kdbush";

export const NODE_SIZE = 16;

/** Build the index; returns its ArrayBuffer (transferable). */
export function buildIndex(xs, ys) {
  const n = Math.min(xs.length, ys.length);
  const index = new KDBush(n, NODE_SIZE, Float32Array);
  for (let i = 0; i < n; i++) index.add(xs[i], ys[i]);
  index.finish();
  return index.data;
}
