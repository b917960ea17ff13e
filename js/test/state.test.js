import { describe, expect, it } from "vitest";
import { getShared } from "../src/tsne/state.js";

function fakeModel(traits) {
  const handlers = new Map();
  const sent = [];
  return {
    sent,
    get: (k) => traits[k],
    set: (k, v) => {
      traits[k] = v;
    },
    on: (ev, fn) => {
      if (!handlers.has(ev)) handlers.set(ev, new Set());
      handlers.get(ev).add(fn);
    },
    off: (ev, fn) => handlers.get(ev)?.delete(fn),
    send: (msg) => sent.push(msg),
    emit: (ev, ...args) => {
      for (const fn of handlers.get(ev) || []) fn(...args);
    },
    count: (ev) => handlers.get(ev)?.size ?? 0,
  };
}

const frameBuf = (values, offset = 0) => {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  const buf = new ArrayBuffer(offset + bytes.length);
  new Uint8Array(buf, offset).set(bytes);
  return new DataView(buf, offset, bytes.length);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fakeView() {
  const v = { drawn: [], frames: 0 };
  v.showFrame = (item) => {
    v.drawn.push(Array.from(item.positions));
    return sleep(5);
  };
  v.onFrameReceived = (n) => {
    v.frames = n;
  };
  return v;
}

describe("shared per-_uid state and frame pipeline", () => {
  it("one state per _uid even with different model proxies; handlers registered once", () => {
    const traits = { _uid: "u1", embedding: frameBuf([1, 2]) };
    const a = fakeModel(traits), b = fakeModel(traits);
    const s1 = getShared(a), s2 = getShared(b);
    expect(s1).toBe(s2);
    expect(a.count("msg:custom")).toBe(1);
    expect(b.count("msg:custom")).toBe(0);
    expect(Array.from(s1.positions)).toEqual([1, 2]);
    s1.dispose();
    expect(a.count("msg:custom")).toBe(0);
    expect(getShared(b)).not.toBe(s1); // fresh after dispose
    getShared(b).dispose();
  });

  it("draws the latest frame into every view and acks the highest id", async () => {
    const m = fakeModel({ _uid: "u2", embedding: new DataView(new ArrayBuffer(0)) });
    const s = getShared(m);
    const v1 = fakeView(), v2 = fakeView();
    s.views.add(v1);
    s.views.add(v2);
    m.emit("msg:custom", { type: "frame", id: 0, iteration: 0, phase: "initial" }, [frameBuf([0, 0, 1, 1], 3)]);
    m.emit("msg:custom", { type: "frame", id: 1, iteration: 50, phase: "early_exaggeration" }, [frameBuf([2, 2, 3, 3])]);
    m.emit("msg:custom", { type: "frame", id: 2, iteration: 100, phase: "early_exaggeration" }, [frameBuf([4, 4, 5, 5], 1)]);
    m.emit("msg:custom", { type: "other" }, []);
    expect(v1.frames).toBe(3);
    await sleep(80);
    expect(v1.drawn).toEqual([[4, 4, 5, 5]]); // frames 0 and 1 were skipped
    expect(v2.drawn).toEqual([[4, 4, 5, 5]]);
    expect(m.sent).toEqual([{ type: "ack", id: 2 }]);
    expect(s.iteration).toBe(100);
    expect(s.phase).toBe("early_exaggeration");
    // a frame arriving while idle is drawn and acked too
    m.emit("msg:custom", { type: "frame", id: 3, iteration: 150, phase: "main" }, [frameBuf([6, 6, 7, 7])]);
    await sleep(80);
    expect(v1.drawn.at(-1)).toEqual([6, 6, 7, 7]);
    expect(m.sent.at(-1)).toEqual({ type: "ack", id: 3 });
    s.dispose();
  });

  it("acks even when no view is displayed, and draws trait updates without acking", async () => {
    const m = fakeModel({ _uid: "u3", embedding: null });
    const s = getShared(m);
    m.emit("msg:custom", { type: "frame", id: 7, iteration: 1, phase: "main" }, [frameBuf([1, 1])]);
    await sleep(60);
    expect(m.sent).toEqual([{ type: "ack", id: 7 }]);
    const v = fakeView();
    s.views.add(v);
    m.set("embedding", frameBuf([9, 9]));
    m.emit("change:embedding");
    await sleep(60);
    expect(v.drawn).toEqual([[9, 9]]);
    expect(m.sent).toHaveLength(1);
    s.dispose();
  });

  it("a failing view draw does not stall acks", async () => {
    const m = fakeModel({ _uid: "u4", embedding: null });
    const s = getShared(m);
    s.views.add({ showFrame: () => Promise.reject(new Error("boom")), onFrameReceived() {} });
    m.emit("msg:custom", { type: "frame", id: 1 }, [frameBuf([1, 1])]);
    await sleep(60);
    expect(m.sent).toEqual([{ type: "ack", id: 1 }]);
    s.dispose();
  });
});
