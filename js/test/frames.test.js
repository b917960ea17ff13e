import { describe, expect, it } from "vitest";
import { FramePipeline, decodePositions } from "../src/common/frames.js";

describe("FramePipeline (latest wins, ack bookkeeping)", () => {
  it("asks to schedule once, draws the newest frame, acks the highest id", () => {
    const p = new FramePipeline();
    expect(p.push({ id: 1, positions: "a" })).toBe(true); // schedule a tick
    expect(p.push({ id: 2, positions: "b" })).toBe(false); // already scheduled
    expect(p.push({ id: 3, positions: "c" })).toBe(false);
    expect(p.received).toBe(3);
    const item = p.take();
    expect(item.positions).toBe("c"); // latest wins
    expect(p.complete()).toEqual({ ack: 3, reschedule: false });
    expect(p.skipped).toBe(2);
    expect(p.drawn).toBe(1);
  });

  it("does not schedule while a draw is in flight, then reschedules", () => {
    const p = new FramePipeline();
    p.push({ id: 10, positions: "a" });
    expect(p.take().id).toBe(10);
    expect(p.push({ id: 11, positions: "b" })).toBe(false); // in flight
    expect(p.push({ id: 12, positions: "c" })).toBe(false);
    expect(p.complete()).toEqual({ ack: 10, reschedule: true });
    const next = p.take();
    expect(next.id).toBe(12);
    expect(p.complete()).toEqual({ ack: 12, reschedule: false });
    expect(p.take()).toBe(null);
  });

  it("a trait update (no id) acks frames it superseded", () => {
    const p = new FramePipeline();
    p.push({ id: 4, positions: "frame" });
    p.push({ positions: "trait" }); // replaces frame 4 before it was drawn
    expect(p.received).toBe(1);
    const item = p.take();
    expect(item.positions).toBe("trait");
    expect(p.complete().ack).toBe(4); // frame 4 still gets acknowledged
  });

  it("never acks the same id twice, nor ids going backwards", () => {
    const p = new FramePipeline();
    p.push({ id: 5, positions: 1 });
    p.take();
    expect(p.complete().ack).toBe(5);
    p.push({ positions: 2 }); // trait update, nothing new to ack
    p.take();
    expect(p.complete().ack).toBe(null);
    p.push({ id: 3, positions: 3 }); // an old id arriving late
    p.take();
    expect(p.complete().ack).toBe(null);
  });

  it("trait-only updates never produce acks", () => {
    const p = new FramePipeline();
    expect(p.push({ positions: 1 })).toBe(true);
    p.take();
    expect(p.complete()).toEqual({ ack: null, reschedule: false });
  });

  it("take() with nothing pending is harmless", () => {
    const p = new FramePipeline();
    expect(p.take()).toBe(null);
    expect(p.complete()).toEqual({ ack: null, reschedule: false });
  });
});

describe("decodePositions (frame wire format)", () => {
  it("reads exact float32 key frames, honouring the byte offset", () => {
    const f = new Float32Array([1.5, -2, 3, 4]);
    const buf = new ArrayBuffer(2 + f.byteLength);
    new Uint8Array(buf, 2).set(new Uint8Array(f.buffer));
    expect(Array.from(decodePositions({ key: true }, new DataView(buf, 2, f.byteLength)))).toEqual([1.5, -2, 3, 4]);
  });

  it("dequantises uint16 frames over their box (as encode_frame writes them)", () => {
    const q = new Uint16Array([0, 65535, 65535, 0, 32768, 16384]);
    const buf = new ArrayBuffer(1 + q.byteLength); // odd offset: must copy, not misread
    new Uint8Array(buf, 1).set(new Uint8Array(q.buffer));
    const msg = { encoding: "u16", lo: [-10, 5], span: [20, 2] };
    const out = decodePositions(msg, new DataView(buf, 1, q.byteLength));
    const want = [-10, 7, 10, 5, -10 + (20 * 32768) / 65535, 5 + (2 * 16384) / 65535];
    out.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    expect(out).toBeInstanceOf(Float32Array);
  });
});
