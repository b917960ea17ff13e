// The frame stream of one TSNESweepWidget model (made once per model by the
// widget factory, common/widget.js). Frames carry a `panel` index. Unlike the
// single t-SNE view, latest-wins is per panel: the newest positions of every
// panel are kept, and a tick draws every panel that changed since the last
// one, so the final frame of one panel is never replaced by the first frame of
// the next. The shared frame loop (common/stream.js) keeps the
// draw-then-acknowledge bookkeeping.

import { toFloat32 } from "../common/buffers.js";
import { decodePositions } from "../common/frames.js";
import { frameStream } from "../common/stream.js";
import { splitPanels } from "./panels.js";

export function sweepStream(model, views) {
  const s = {
    latest: [], // per panel: Float32Array | null
    live: [], // per panel: {iteration, phase} of the newest frame
    dirty: new Set(),
  };

  const fromTrait = () => {
    const n = Number(model.get("n_points")) || 0;
    const panels = model.get("panels") || [];
    const k = panels.length;
    const parts = splitPanels(toFloat32(model.get("positions")), k, n);
    s.latest.length = k;
    for (let i = 0; i < k; i++) {
      // A panel without data in the trait keeps what frames brought, unless a
      // new run has reset it (status idle): then it is emptied.
      const reset = !parts[i] && (panels[i] || {}).status === "idle";
      if (parts[i] || reset || s.latest[i] === undefined) {
        s.latest[i] = parts[i];
        s.dirty.add(i);
      }
    }
  };
  fromTrait();

  const draw = () => {
    const panels = [...s.dirty].sort((a, b) => a - b);
    s.dirty.clear();
    return Promise.all([...views].map((v) => v.showPanels(panels).catch(() => {})));
  };
  const frame = (msg, buffers) => {
    const k = Number(msg.panel);
    if (!Number.isInteger(k) || k < 0) return null;
    s.latest[k] = decodePositions(msg, buffers?.[0]);
    s.live[k] = { iteration: Number(msg.iteration), phase: msg.phase };
    s.dirty.add(k);
    return { id: Number(msg.id) };
  };
  const traitChanged = (loop) => {
    fromTrait();
    loop.enqueue({});
  };
  return Object.assign(s, frameStream(model, views, draw, { frame, on: [["change:positions", traitChanged]] }));
}
