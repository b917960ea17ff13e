// Latest-wins frame bookkeeping, free of DOM and WebGL so it can be unit-tested.
//
// Frames (custom messages with an integer id) and trait updates (no id) both
// carry "the latest positions". At most one draw is in flight; while it runs,
// newer arrivals replace each other and only the newest is drawn next.
// After a draw completes we acknowledge the highest frame id that had arrived
// before the drawn item (skipped frames are covered: the kernel treats
// ack(id) as acknowledging every id <= id).
//
// Usage:
//   if (pipe.push(item)) requestAnimationFrame(tick);   // schedule when asked to
//   function tick() { const item = pipe.take(); ...draw... then:
//     const { ack, reschedule } = pipe.complete();
//     if (ack !== null) send({type: "ack", id: ack}); if (reschedule) requestAnimationFrame(tick); }

import { toFloat32, toUint16 } from "./buffers.js";

const U16 = 65535;

/**
 * Positions (Float32Array of x,y pairs) from a frame message and its buffer.
 * Key frames are exact float32; the frames between them are uint16 pairs
 * quantised over the frame's box ({encoding: "u16", lo: [x, y], span: [w, h]};
 * see vae_widgets/widgets/_frames.py encode_frame).
 */
export function decodePositions(msg, buf) {
  if (!msg || msg.encoding !== "u16") return toFloat32(buf);
  const q = toUint16(buf);
  const out = new Float32Array(q.length);
  const lx = Number(msg.lo?.[0]) || 0, ly = Number(msg.lo?.[1]) || 0;
  const sx = (Number(msg.span?.[0]) || 0) / U16, sy = (Number(msg.span?.[1]) || 0) / U16;
  for (let i = 0; i + 1 < q.length; i += 2) {
    out[i] = lx + q[i] * sx;
    out[i + 1] = ly + q[i + 1] * sy;
  }
  return out;
}

export class FramePipeline {
  constructor() {
    this.received = 0; // frames (items with an id) received
    this.drawn = 0; // items drawn
    this.maxId = -Infinity; // highest frame id seen so far
    this.lastAcked = -Infinity; // highest id acknowledged
    this.pending = null; // newest item not yet taken
    this.inFlight = null; // item being drawn
    this.scheduled = false; // a tick is scheduled
    this.skipped = 0; // items replaced before being drawn
  }

  /**
   * Record a new item {id?, ...}. Returns true when the caller must schedule
   * a tick (nothing scheduled and nothing in flight).
   */
  push(item) {
    const hasId = item.id !== undefined && item.id !== null && Number.isFinite(item.id);
    if (hasId) {
      this.received++;
      if (item.id > this.maxId) this.maxId = item.id;
    }
    if (this.pending) this.skipped++;
    // Drawing this item acknowledges everything that arrived up to now.
    this.pending = { ...item, ackUpTo: this.maxId };
    if (this.scheduled || this.inFlight) return false;
    this.scheduled = true;
    return true;
  }

  /** Take the newest pending item for drawing (null when there is none). */
  take() {
    this.scheduled = false;
    if (this.inFlight || !this.pending) return null;
    this.inFlight = this.pending;
    this.pending = null;
    return this.inFlight;
  }

  /**
   * The in-flight draw finished (successfully or not).
   * Returns {ack: id | null, reschedule: bool}: ack is the id to send (null if
   * nothing new to acknowledge); reschedule says a newer item is waiting.
   */
  complete() {
    const item = this.inFlight;
    this.inFlight = null;
    let ack = null;
    if (item) {
      this.drawn++;
      if (Number.isFinite(item.ackUpTo) && item.ackUpTo > this.lastAcked) {
        ack = item.ackUpTo;
        this.lastAcked = ack;
      }
    }
    const reschedule = Boolean(this.pending) && !this.scheduled;
    if (reschedule) this.scheduled = true;
    return { ack, reschedule };
  }

  /** Forget counters (e.g. a new run). Keeps pending/in-flight items. */
  resetCounters() {
    this.received = 0;
    this.drawn = 0;
    this.skipped = 0;
  }
}
