import { describe, expect, it, vi } from "vitest";
import { panelText, splitPanels } from "../src/sweep/panels.js";
import { sweepStream } from "../src/sweep/stream.js";
import { fakeModel, f32View as buf, sleep } from "./fake_model.js";

function fakeView(shared) {
  const v = { draws: [], frames: 0 };
  v.showPanels = (panels) => {
    v.draws.push(panels.map((k) => [k, shared.latest[k] ? Array.from(shared.latest[k]) : null]));
    return sleep(5);
  };
  v.onFrameReceived = (n) => {
    v.frames = n;
  };
  return v;
}

describe("splitPanels", () => {
  it("splits panels x n x 2 into per-panel views; NaN panels are empty", () => {
    const flat = new Float32Array([1, 2, 3, 4, NaN, NaN, NaN, NaN, 5, 6, 7, 8]);
    const parts = splitPanels(flat, 3, 2);
    expect(Array.from(parts[0])).toEqual([1, 2, 3, 4]);
    expect(parts[1]).toBeNull();
    expect(Array.from(parts[2])).toEqual([5, 6, 7, 8]);
    expect(parts[2].buffer).toBe(flat.buffer); // no copy
  });
  it("short or missing buffers give empty panels", () => {
    expect(splitPanels(new Float32Array([1, 2]), 2, 2)).toEqual([null, null]);
    expect(splitPanels(null, 2, 5)).toEqual([null, null]);
    expect(splitPanels(new Float32Array(0), 0, 5)).toEqual([]);
  });
});

describe("panelText", () => {
  it("titles say value, iteration, final KL and disparity", () => {
    const p = { label: "perplexity 5", status: "done", iteration: 750, total: 750, kl: 1.23456, disparity: 0.0421, reference: false };
    expect(panelText(p)).toEqual({ label: "perplexity 5", progress: "iteration 750 / 750", kl: "final KL 1.235", disparity: "disparity 0.042" });
  });
  it("live frames win over the trait; the reference says so; idle panels wait", () => {
    const p = { label: "perplexity 30", status: "running", iteration: 100, total: 1250, kl: 3.5, disparity: null, reference: true };
    expect(panelText(p, { iteration: 1100 })).toMatchObject({ progress: "iteration 1,100 / 1,250", kl: "KL 3.5", disparity: "reference" });
    expect(panelText({ label: "x", status: "idle", total: 10 })).toMatchObject({ progress: "waiting", kl: "", disparity: "" });
  });
});

describe("sweep frame stream", () => {
  it("keeps the newest positions of every panel: one panel's frame never replaces another's", async () => {
    const traits = { n_points: 2, panels: [{ status: "idle" }, { status: "idle" }], positions: buf([NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN]) };
    const m = fakeModel(traits);
    const views = new Set();
    const s = sweepStream(m, views);
    const v = fakeView(s);
    views.add(v);
    expect(s.latest).toEqual([null, null]);
    // the last frame of panel 1 and the first of panel 0 arrive before the next draw
    m.emit("msg:custom", { type: "frame", id: 0, panel: 1, iteration: 750 }, [buf([1, 1, 2, 2], 2)]);
    m.emit("msg:custom", { type: "frame", id: 1, panel: 1, iteration: 750 }, [buf([3, 3, 4, 4])]);
    m.emit("msg:custom", { type: "frame", id: 2, panel: 0, iteration: 0 }, [buf([5, 5, 6, 6])]);
    await vi.waitFor(() => expect(m.sent.at(-1)).toEqual({ type: "ack", id: 2 }), { timeout: 5000, interval: 5 });
    const drawn = new Map(v.draws.flat());
    expect(drawn.get(1)).toEqual([3, 3, 4, 4]);
    expect(drawn.get(0)).toEqual([5, 5, 6, 6]);
    expect(s.live[1].iteration).toBe(750);
    expect(v.frames).toBe(3);
    expect(m.sent.at(-1)).toEqual({ type: "ack", id: 2 });
    s.dispose();
    expect(m.count("msg:custom")).toBe(0);
  });

  it("the positions trait fills panels; a new run (idle + NaN) empties them", async () => {
    const traits = { n_points: 1, panels: [{ status: "done" }, { status: "done" }], positions: buf([1, 2, 3, 4]) };
    const m = fakeModel(traits);
    const views = new Set();
    const s = sweepStream(m, views);
    expect(Array.from(s.latest[0])).toEqual([1, 2]);
    expect(Array.from(s.latest[1])).toEqual([3, 4]);
    const v = fakeView(s);
    views.add(v);
    traits.panels = [{ status: "idle" }, { status: "running" }];
    traits.positions = buf([NaN, NaN, NaN, NaN]);
    m.emit("change:positions");
    await vi.waitFor(() => expect(v.draws.at(-1)).toContainEqual([0, null]), { timeout: 5000, interval: 5 });
    expect(s.latest[0]).toBeNull(); // reset by the new run
    expect(Array.from(s.latest[1])).toEqual([3, 4]); // running: keeps what it has
    expect(v.draws.at(-1)).toContainEqual([0, null]);
    s.dispose();
  });

  it("ignores frames without a panel index", () => {
    const m = fakeModel({ n_points: 1, panels: [{}], positions: null });
    const s = sweepStream(m, new Set());
    m.emit("msg:custom", { type: "frame", id: 0 }, [buf([1, 2])]);
    expect(s.latest[0]).toBeNull();
    s.dispose();
  });
});
