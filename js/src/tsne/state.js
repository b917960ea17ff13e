// Per-widget state shared by all views of one model, keyed on the synced
// `_uid` trait (anywidget may hand initialize() and each render() different
// model proxies, so the model object is not a usable key).
//
// It owns the frame pipeline: frames (custom messages) and `embedding` trait
// updates are drawn latest-wins, at most once per animation frame, into every
// view; after a draw the highest frame id received so far is acknowledged.

import { toFloat32 } from "../common/buffers.js";
import { FramePipeline, decodePositions } from "../common/frames.js";
import { FRAME, ack } from "../common/schema.js";

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
    positions: toFloat32(model.get("embedding")),
    iteration: null, // from the newest drawn frame
    phase: null,
  };
  SHARED.set(uid, s);

  const tick = () => {
    const item = s.pipe.take();
    if (!item) return;
    s.positions = item.positions;
    if (item.id !== undefined) {
      s.iteration = item.iteration ?? s.iteration;
      s.phase = item.phase ?? s.phase;
    }
    const draws = [...s.views].map((v) => v.showFrame(item).catch(() => {}));
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
    const positions = decodePositions(msg, buffers?.[0]);
    s.enqueue({ id: Number(msg.id), positions, iteration: msg.iteration, phase: msg.phase });
    for (const v of s.views) v.onFrameReceived(s.pipe.received);
  };
  const onEmbedding = () => s.enqueue({ positions: toFloat32(model.get("embedding")) });
  model.on("msg:custom", onMsg);
  model.on("change:embedding", onEmbedding);

  s.dispose = () => {
    model.off("msg:custom", onMsg);
    model.off("change:embedding", onEmbedding);
    SHARED.delete(uid);
  };
  return s;
}
