// The frame loop both point widgets share: frames (custom messages) and trait
// updates are drawn latest-wins, at most once per animation frame, into every
// view; after a draw the highest frame id received so far is acknowledged
// (FramePipeline keeps that bookkeeping). A draw that never settles is given
// up after DRAW_TIMEOUT_MS so the kernel is never left waiting for an ack.
//
//   const loop = frameLoop(model, (item) => Promise.all(views.map(v => v.show(item))));
//   loop.enqueue({id, ...}) per frame; loop.enqueue({...}) for a trait update.

import { FramePipeline } from "./frames.js";
import { ack } from "./schema.js";

const DRAW_TIMEOUT_MS = 5000;

export const nextFrame = (fn) =>
  typeof requestAnimationFrame === "function" ? requestAnimationFrame(fn) : setTimeout(fn, 16);

export function frameLoop(model, draw) {
  const pipe = new FramePipeline();
  let disposed = false;
  const tick = () => {
    const item = pipe.take();
    if (!item || disposed) return;
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, DRAW_TIMEOUT_MS);
    });
    const drawn = Promise.resolve()
      .then(() => draw(item))
      .catch(() => {});
    Promise.race([drawn, timeout]).then(() => {
      clearTimeout(timer);
      const { ack: id, reschedule } = pipe.complete();
      if (id !== null && !disposed) {
        try {
          model.send(ack(id));
        } catch (_) {
          /* comm closed */
        }
      }
      if (reschedule) nextFrame(tick);
    });
  };
  return {
    pipe,
    enqueue(item) {
      if (pipe.push(item)) nextFrame(tick);
    },
    dispose() {
      disposed = true;
    },
  };
}

/** Listen to model events until dispose(): on(model, [["msg:custom", fn], ["change:x", fn]]). */
export function listenAll(model, pairs) {
  for (const [ev, fn] of pairs) model.on(ev, fn);
  return () => {
    for (const [ev, fn] of pairs) model.off(ev, fn);
  };
}
