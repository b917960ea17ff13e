import { describe, expect, it } from "vitest";
import { vaeState } from "../src/vae/state.js";

function fakeModel(traits) {
  const handlers = new Map();
  return {
    get: (k) => traits[k],
    set: (k, v) => {
      traits[k] = v;
    },
    on: (ev, fn) => {
      if (!handlers.has(ev)) handlers.set(ev, new Set());
      handlers.get(ev).add(fn);
    },
    off: (ev, fn) => handlers.get(ev)?.delete(fn),
    send: () => {},
    emit: (ev, ...args) => {
      for (const fn of handlers.get(ev) || []) fn(...args);
    },
    count: (ev) => handlers.get(ev)?.size ?? 0,
  };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const klBytes = (v) => new DataView(new Float32Array(v).buffer);

describe("VAE shared state", () => {
  it("messages append, trait changes replace, views notified once per frame", async () => {
    const traits = { _uid: "u1", latent_dim: 2, metrics: { step: [1], elbo: [9] }, kl_per_dim: klBytes([1, 2]) };
    const m = fakeModel(traits);
    const s = vaeState(m);
    expect(s.store.length).toBe(1);
    let calls = 0;
    s.views.add({ onMetrics: () => calls++ });
    m.emit("msg:custom", { type: "metrics", rows: [{ step: 2, elbo: 8, kl_per_dim: [3, 4] }] });
    m.emit("msg:custom", { type: "metrics", rows: [{ step: 3, elbo: 7, kl_per_dim: [5, 6] }] });
    m.emit("msg:custom", { type: "frame" }, []);
    expect(s.store.cols.step).toEqual([1, 2, 3]);
    await sleep(40);
    expect(calls).toBe(1);
    // the trait catches up to step 2: rows after it stay
    traits.metrics = { step: [1, 2], elbo: [9, 8.5] };
    traits.kl_per_dim = klBytes([1, 2, 3, 4]);
    m.emit("change:metrics");
    m.emit("change:kl_per_dim");
    await sleep(40);
    expect(calls).toBe(2);
    expect(s.store.cols.step).toEqual([1, 2, 3]);
    expect(s.store.cols.elbo).toEqual([9, 8.5, 7]);
    s.dispose();
    expect(m.count("msg:custom")).toBe(0);
  });
});
