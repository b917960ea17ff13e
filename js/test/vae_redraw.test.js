import { describe, expect, it, vi } from "vitest";
import { Redraw } from "../src/vae/redraw.js";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = (check) => vi.waitFor(check, { timeout: 5000, interval: 5 });

describe("Redraw", () => {
  it("coalesces: each dirty part drawn once on the next frame, `first` parts first", async () => {
    const drawn = [];
    const r = new Redraw((p) => drawn.push(p), { first: ["size"] });
    r.schedule("kl", "rd");
    r.schedule("kl", "size");
    expect(drawn).toEqual([]);
    await until(() => expect(drawn).toEqual(["size", "kl", "rd"]));
    await sleep(50);
    expect(drawn).toEqual(["size", "kl", "rd"]); // once each
  });

  it("a part that cannot be drawn is retried, a bounded number of times", async () => {
    let calls = 0;
    const r = new Redraw(() => (++calls, false), { retryMs: 5, maxRetries: 3 });
    r.schedule("grid");
    await until(() => expect(calls).toBe(4)); // the first try and 3 retries
    await sleep(100);
    expect(calls).toBe(4); // and no more
    // the box got a size: try again at once, with a fresh budget
    r.retrySkipped();
    await until(() => expect(calls).toBe(8));
    await sleep(100);
    expect(calls).toBe(8);
    r.destroy();
  });

  it("a draw that throws is logged and the others still drawn", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const drawn = [];
    const r = new Redraw((p) => {
      if (p === "bad") throw new Error("boom");
      drawn.push(p);
    });
    r.schedule("bad", "good");
    await until(() => expect(drawn).toEqual(["good"]));
    expect(err).toHaveBeenCalledWith("vae_widgets: drawing bad failed", expect.any(Error));
    err.mockRestore();
  });

  it("nothing is drawn after destroy", async () => {
    const draw = vi.fn(() => false);
    const r = new Redraw(draw, { retryMs: 5 });
    r.schedule("kl");
    r.destroy();
    await sleep(40);
    expect(draw).not.toHaveBeenCalled();
    r.now("kl"); // a retry timer is not started either
    await sleep(40);
    expect(draw).toHaveBeenCalledTimes(1);
  });
});
