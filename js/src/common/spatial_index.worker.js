// Worker: build the spatial index of a frame's x, y coordinates off the main
// thread. build.mjs bundles this file (with kdbush) into a string that
// spatial_index.js starts as a Blob worker.
import { buildIndex } from "./kd_index.js";

self.onmessage = ({ data }) => {
  const { id, xs, ys } = data;
  try {
    const buffer = buildIndex(xs, ys);
    self.postMessage({ id, buffer }, [buffer]);
  } catch (err) {
    self.postMessage({ id, buffer: null, error: String(err) });
  }
};
