import { describe, expect, it, vi } from "vitest";
import { widgetFactory } from "../src/common/widget.js";
import { frameLoop, HOLD_MAX_MS, HOLD_MS, SLOW_DRAW_MS } from "../src/common/stream.js";
import { tsneStream } from "../src/tsne/stream.js";
import { fakeModel, f32View as frameBuf, sleep } from "./fake_model.js";

// a frame is drawn, then acknowledged: wait for the ack (a fixed sleep fails on a busy machine)
const acked = (m, id) =>
  vi.waitFor(() => expect(m.sent.at(-1)).toEqual({ type: "ack", id }), { timeout: 5000, interval: 5 });

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

describe("widget factory: per-model state in a closure", () => {
  it("one stream per model even with different model proxies; each model its own", () => {
    const made = [];
    class View {
      constructor(model, el, stream) {
        this.stream = stream;
        made.push(this);
      }
      destroy() {
        this.destroyed = true;
      }
    }
    const createStream = (model, views) => ({ model, views, dispose() { this.disposed = true; } });
    const factory = widgetFactory({ createStream, View });
    const traits = { _uid: "same-uid" };
    const a = fakeModel(traits), b = fakeModel(traits);
    const w1 = factory(), w2 = factory(); // anywidget calls the factory once per model
    const cleanup = w1.initialize({ model: a });
    const off1 = w1.render({ model: b, el: null }); // another proxy of the same model
    w1.render({ model: b, el: null });
    w2.initialize({ model: fakeModel({ _uid: "same-uid" }) }); // a synced id is not the key
    w2.render({ model: fakeModel({ _uid: "same-uid" }), el: null });
    expect(made[0].stream).toBe(made[1].stream);
    expect(made[2].stream).not.toBe(made[0].stream);
    expect([...made[0].stream.views]).toEqual([made[0], made[1]]);
    expect(b.sent).toEqual([{ type: "hello" }, { type: "hello" }]); // each view asks for the latest frame
    off1();
    expect(made[0].destroyed).toBe(true);
    expect([...made[0].stream.views]).toEqual([made[1]]);
    const s = made[0].stream;
    cleanup();
    expect(s.disposed).toBe(true);
  });
});

describe("t-SNE frame stream", () => {
  it("listens once per model, to frames only, and stops on dispose", () => {
    // the positions travel only as frame messages (no `embedding` trait: a key frame
    // is sent once; a view opened later gets the latest frame after its hello)
    const m = fakeModel({});
    const s = tsneStream(m, new Set());
    expect(m.count("msg:custom")).toBe(1);
    expect(m.count("change:embedding")).toBe(0);
    expect(s.positions.length).toBe(0);
    s.dispose();
    expect(m.count("msg:custom")).toBe(0);
  });

  it("draws the latest frame into every view and acks the highest id", async () => {
    const m = fakeModel({});
    const views = new Set();
    const s = tsneStream(m, views);
    const v1 = fakeView(), v2 = fakeView();
    views.add(v1);
    views.add(v2);
    m.emit("msg:custom", { type: "frame", id: 0, iteration: 0, phase: "initial" }, [frameBuf([0, 0, 1, 1], 3)]);
    m.emit("msg:custom", { type: "frame", id: 1, iteration: 50, phase: "early_exaggeration" }, [frameBuf([2, 2, 3, 3])]);
    // a quantised frame (between key frames): uint16 over its box
    const q = new Uint16Array([0, 0, 65535, 65535]);
    m.emit("msg:custom", { type: "frame", id: 2, iteration: 100, phase: "early_exaggeration", encoding: "u16", lo: [4, 4], span: [1, 1] }, [new DataView(q.buffer)]);
    m.emit("msg:custom", { type: "other" }, []);
    expect(v1.frames).toBe(3);
    await acked(m, 2);
    expect(v1.drawn).toEqual([[4, 4, 5, 5]]); // frames 0 and 1 were skipped
    expect(v2.drawn).toEqual([[4, 4, 5, 5]]);
    expect(m.sent).toEqual([{ type: "ack", id: 2 }]);
    expect(s.iteration).toBe(100);
    expect(s.phase).toBe("early_exaggeration");
    // a frame arriving while idle is drawn and acked too
    m.emit("msg:custom", { type: "frame", id: 3, iteration: 150, phase: "main" }, [frameBuf([6, 6, 7, 7])]);
    await acked(m, 3);
    expect(v1.drawn.at(-1)).toEqual([6, 6, 7, 7]);
    expect(m.sent.at(-1)).toEqual({ type: "ack", id: 3 });
    s.dispose();
  });

  it("acks even when no view is displayed, and keeps the latest positions for a later view", async () => {
    const m = fakeModel({});
    const views = new Set();
    const s = tsneStream(m, views);
    m.emit("msg:custom", { type: "frame", id: 7, iteration: 1, phase: "main" }, [frameBuf([1, 1])]);
    await acked(m, 7);
    expect(m.sent).toEqual([{ type: "ack", id: 7 }]);
    expect(Array.from(s.positions)).toEqual([1, 1]);
    const v = fakeView();
    views.add(v);
    m.emit("msg:custom", { type: "frame", id: 8, iteration: 2, phase: "main" }, [frameBuf([9, 9])]);
    await acked(m, 8);
    expect(v.drawn).toEqual([[9, 9]]);
    expect(m.sent).toEqual([{ type: "ack", id: 7 }, { type: "ack", id: 8 }]);
    s.dispose();
  });

  it("a failing view draw does not stall acks", async () => {
    const m = fakeModel({});
    const s = tsneStream(m, new Set([{ showFrame: () => Promise.reject(new Error("boom")), onFrameReceived() {} }]));
    m.emit("msg:custom", { type: "frame", id: 1 }, [frameBuf([1, 1])]);
    await acked(m, 1);
    expect(m.sent).toEqual([{ type: "ack", id: 1 }]);
    s.dispose();
  });
});

describe("frame loop: the user's hand comes first", () => {
  // draws that take `drawMs`; returns the loop and the times each draw started
  function slowLoop(drawMs) {
    const m = fakeModel({});
    const started = [];
    const loop = frameLoop(m, (item) => {
      started.push([item.id, performance.now()]);
      return sleep(drawMs);
    });
    return { m, loop, started };
  }

  it("with slow draws an interaction holds new frames for HOLD_MS, latest wins", async () => {
    const { m, loop, started } = slowLoop(SLOW_DRAW_MS + 20);
    loop.enqueue({ id: 1 });
    await vi.waitFor(() => expect(m.sent).toEqual([{ type: "ack", id: 1 }]), { timeout: 5000, interval: 5 });
    expect(loop.stats.lastDrawMs).toBeGreaterThanOrEqual(SLOW_DRAW_MS);
    const t0 = performance.now();
    loop.interacting(); // a wheel or a hover over the map
    loop.enqueue({ id: 2 });
    loop.enqueue({ id: 3 }); // replaces 2 while held
    await sleep(HOLD_MS / 2);
    expect(started.length).toBe(1); // nothing drawn while the user's hand is on the map
    await vi.waitFor(() => expect(m.sent.at(-1)).toEqual({ type: "ack", id: 3 }), { timeout: 5000, interval: 5 });
    expect(started.map(([id]) => id)).toEqual([1, 3]);
    expect(started[1][1] - t0).toBeGreaterThanOrEqual(HOLD_MS - 20);
    expect(loop.stats.held).toBe(1);
  });

  it("a draw slower than half the hold holds the frames for twice its time", async () => {
    const { m, loop, started } = slowLoop(300);
    loop.enqueue({ id: 1 });
    await vi.waitFor(() => expect(m.sent).toEqual([{ type: "ack", id: 1 }]), { timeout: 5000, interval: 5 });
    const t0 = performance.now();
    loop.interacting();
    loop.enqueue({ id: 2 });
    await vi.waitFor(() => expect(started.length).toBe(2), { timeout: 5000, interval: 5 });
    const hold = started[1][1] - t0;
    expect(hold).toBeGreaterThanOrEqual(2 * loop.stats.lastDrawMs - 30);
    expect(hold).toBeLessThan(HOLD_MAX_MS);
  });

  it("a hand that never rests still lets a frame through every HOLD_MAX_MS", async () => {
    const { m, loop, started } = slowLoop(SLOW_DRAW_MS + 20);
    loop.enqueue({ id: 1 });
    await vi.waitFor(() => expect(m.sent).toEqual([{ type: "ack", id: 1 }]), { timeout: 5000, interval: 5 });
    const t0 = performance.now();
    loop.interacting();
    loop.enqueue({ id: 2 });
    const hand = setInterval(() => loop.interacting(), 50); // hovering all the time
    try {
      await vi.waitFor(() => expect(started.length).toBe(2), { timeout: 2 * HOLD_MAX_MS, interval: 10 });
    } finally {
      clearInterval(hand);
    }
    const waited = started[1][1] - t0;
    expect(waited).toBeGreaterThanOrEqual(HOLD_MAX_MS - 30);
    expect(waited).toBeLessThan(HOLD_MAX_MS + 1000);
  }, 10_000);

  it("with quick draws nothing is held: the map keeps moving under the mouse", async () => {
    const { m, loop, started } = slowLoop(1);
    loop.enqueue({ id: 1 });
    await vi.waitFor(() => expect(m.sent).toEqual([{ type: "ack", id: 1 }]), { timeout: 5000, interval: 5 });
    const t0 = performance.now();
    loop.interacting();
    loop.enqueue({ id: 2 });
    await vi.waitFor(() => expect(m.sent.at(-1)).toEqual({ type: "ack", id: 2 }), { timeout: 5000, interval: 5 });
    expect(started[1][1] - t0).toBeLessThan(HOLD_MS / 2);
    expect(loop.stats.held).toBe(0);
  });
});
