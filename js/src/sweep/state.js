// Per-widget state shared by all views of one sweep model, keyed on the synced
// `_uid` trait (anywidget may hand initialize() and each render() different
// model proxies).
//
// Frames carry a `panel` index. Unlike the single t-SNE view, latest-wins is
// per panel: the newest positions of every panel are kept, and a tick draws
// every panel that changed since the last one, so the final frame of one panel
// is never replaced by the first frame of the next. FramePipeline keeps the
// draw-then-acknowledge bookkeeping (one draw in flight, acks up to the newest id).

import { toFloat32 } from "../common/buffers.js";
import { FramePipeline, decodePositions } from "../common/frames.js";
import { FRAME, ack } from "../common/schema.js";
import { splitPanels } from "./panels.js";

const SHARED = new Map();
const DRAW_TIMEOUT_MS = 5000;

const raf = (fn) =>
  typeof requestAnimationFrame === "function" ? requestAnimationFrame(fn) : setTimeout(fn, 16);

export function getShared(model) {
  const uid = model.get("_uid") || "";
  let s = SHARED.get(uid);
  if (s) return s;
  s = {
    uid,
    model,
    views: new Set(),
    pipe: new FramePipeline(),
    latest: [], // per panel: Float32Array | null
    live: [], // per panel: {iteration, phase} of the newest frame
    dirty: new Set(),
  };
  SHARED.set(uid, s);

  const fromTrait = () => {
    const n = Number(model.get("n_points")) || 0;
    const k = (model.get("panels") || []).length;
    const parts = splitPanels(toFloat32(model.get("positions")), k, n);
    s.latest.length = k;
    const panels = model.get("panels") || [];
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

  const tick = () => {
    const item = s.pipe.take();
    if (!item) return;
    const panels = [...s.dirty].sort((a, b) => a - b);
    s.dirty.clear();
    const draws = [...s.views].map((v) => v.showPanels(panels).catch(() => {}));
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, DRAW_TIMEOUT_MS);
    });
    Promise.race([Promise.all(draws), timeout]).then(() => {
      clearTimeout(timer);
      const { ack: id, reschedule } = s.pipe.complete();
      if (id !== null) {
        try {
          s.model.send(ack(id));
        } catch (_) {
          /* comm closed */
        }
      }
      if (reschedule) raf(tick);
    });
  };
  s.enqueue = (item) => {
    if (s.pipe.push(item)) raf(tick);
  };

  const onMsg = (msg, buffers) => {
    if (!msg || msg.type !== FRAME) return;
    const k = Number(msg.panel);
    if (!Number.isInteger(k) || k < 0) return;
    s.latest[k] = decodePositions(msg, buffers?.[0]);
    s.live[k] = { iteration: Number(msg.iteration), phase: msg.phase };
    s.dirty.add(k);
    s.enqueue({ id: Number(msg.id) });
    for (const v of s.views) v.onFrameReceived(s.pipe.received);
  };
  const onPositions = () => {
    fromTrait();
    s.enqueue({});
  };
  model.on("msg:custom", onMsg);
  model.on("change:positions", onPositions);

  s.dispose = () => {
    model.off("msg:custom", onMsg);
    model.off("change:positions", onPositions);
    SHARED.delete(uid);
  };
  return s;
}
