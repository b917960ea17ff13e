// The frame loop both point widgets share: frames (custom messages) and trait
// updates are drawn latest-wins, at most once per animation frame, into every
// view; after a draw the highest frame id received so far is acknowledged
// (FramePipeline keeps that bookkeeping). A draw that never settles is given
// up after DRAW_TIMEOUT_MS so the kernel is never left waiting for an ack.
//
//   const loop = frameLoop(model, (item) => Promise.all(views.map(v => v.show(item))));
//   loop.enqueue({id, ...}) per frame; loop.enqueue({...}) for a trait update.
//
// The user's hand comes first: when drawing a frame takes long (a million points
// in a software renderer), a zoom, pan or hover would wait behind it; so each
// interaction (loop.interacting()) holds new frames for HOLD_MS, or twice the last
// draw's time when that is longer (at most HOLD_MAX_MS): a gesture's next event finds
// the page free. A frame is never held longer than HOLD_MAX_MS in all, so the map still
// moves (slowly) under a hand that never rests. With quick draws (under SLOW_DRAW_MS)
// nothing is held and the map keeps moving under the mouse.

import { FramePipeline } from "./frames.js";
import { ack, FRAME } from "./schema.js";

const DRAW_TIMEOUT_MS = 5000;
/** A draw slower than this makes interactions hold the frames. */
export const SLOW_DRAW_MS = 50;
/** How long one interaction holds the frames at least (the next frame waits, latest wins). */
export const HOLD_MS = 400;
/** ... and at most, however slow the draws; also the longest a frame waits in all. */
export const HOLD_MAX_MS = 3000;

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

export const nextFrame = (fn) =>
  typeof requestAnimationFrame === "function" ? requestAnimationFrame(fn) : setTimeout(fn, 16);

export function frameLoop(model, draw) {
  const pipe = new FramePipeline();
  let disposed = false;
  let holdUntil = -Infinity;
  let lastDrawMs = 0;
  let waiting = false; // a tick waits for the hold to end
  let countedHold = null;
  let heldSince = null; // when the pending frame was first held
  const stats = { held: 0, lastDrawMs: 0 };
  const tick = () => {
    if (disposed) return;
    const t = now();
    if (heldSince === null && holdUntil > t) heldSince = t;
    const wait = Math.min(holdUntil - t, heldSince === null ? 0 : heldSince + HOLD_MAX_MS - t);
    if (wait > 0) {
      // the tick stays scheduled (pipe.scheduled): new frames replace the pending one
      if (countedHold !== holdUntil) {
        countedHold = holdUntil; // (one count per hold, however often the timer wakes)
        stats.held++;
      }
      if (!waiting) {
        waiting = true;
        setTimeout(() => {
          waiting = false;
          tick();
        }, wait + 1);
      }
      return;
    }
    const item = pipe.take();
    if (!item) return;
    heldSince = null;
    const t0 = now();
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, DRAW_TIMEOUT_MS);
    });
    const drawn = Promise.resolve()
      .then(() => draw(item))
      .catch(() => {});
    Promise.race([drawn, timeout]).then(() => {
      clearTimeout(timer);
      lastDrawMs = stats.lastDrawMs = now() - t0;
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
    stats,
    enqueue(item) {
      if (pipe.push(item)) nextFrame(tick);
    },
    /** The user zooms, pans or hovers: with slow draws, hold new frames for a while. */
    interacting() {
      if (lastDrawMs < SLOW_DRAW_MS) return;
      const hold = Math.min(HOLD_MAX_MS, Math.max(HOLD_MS, 2 * lastDrawMs));
      holdUntil = Math.max(holdUntil, now() + hold);
    },
    dispose() {
      disposed = true;
    },
  };
}

/**
 * A model's frame stream, the same for every point widget: FRAME messages become items
 * of one frameLoop drawn by `draw(item)`; every view hears of each frame received.
 *
 *   frameStream(model, views, draw, {
 *     frame: (msg, buffers) => item | null,   // what a FRAME message enqueues (null: drop it)
 *     on: [["change:x", (loop) => ...]],       // other model events, handed the loop
 *   })
 *
 * Returns {pipe, interacting, frameStats, dispose}: the loop's bookkeeping, and dispose()
 * to stop listening and drawing.
 */
export function frameStream(model, views, draw, { frame, on = [] }) {
  const loop = frameLoop(model, draw);
  const pairs = [
    [
      "msg:custom",
      (msg, buffers) => {
        if (!msg || msg.type !== FRAME) return;
        const item = frame(msg, buffers);
        if (!item) return;
        loop.enqueue(item);
        for (const v of views) v.onFrameReceived(loop.pipe.received);
      },
    ],
    ...on.map(([event, fn]) => [event, () => fn(loop)]),
  ];
  for (const [event, fn] of pairs) model.on(event, fn);
  return {
    pipe: loop.pipe,
    interacting: loop.interacting,
    frameStats: loop.stats,
    dispose() {
      for (const [event, fn] of pairs) model.off(event, fn);
      loop.dispose();
    },
  };
}
