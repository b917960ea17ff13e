// @vitest-environment jsdom
// The VAE view as assembled from its panels, on a fake anywidget model: which
// traits reach which panel, clicks become messages, theme changes redraw, and
// destroy lets go of everything.
import { setWidth } from "./canvas_recorder.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { vaeState } from "../src/vae/state.js";
import { VAEView } from "../src/vae/view.js";

function fakeModel(traits) {
  const handlers = new Map();
  const m = {
    sent: [],
    saved: 0,
    get: (k) => traits[k],
    set: (k, v) => {
      traits[k] = v;
    },
    save_changes: () => m.saved++,
    on: (ev, fn) => {
      if (!handlers.has(ev)) handlers.set(ev, new Set());
      handlers.get(ev).add(fn);
    },
    off: (ev, fn) => handlers.get(ev)?.delete(fn),
    send: (msg) => m.sent.push(msg),
    emit: (ev, ...args) => {
      for (const fn of [...(handlers.get(ev) || [])]) fn(...args);
    },
    /** set a trait and tell the listeners, as a kernel update does */
    change: (k, v) => {
      traits[k] = v;
      m.emit(`change:${k}`);
    },
    handlerCount: () => [...handlers.values()].reduce((n, s) => n + s.size, 0),
  };
  return m;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Until the metric tick and the view's redraws that are due have run (however slow the machine). */
const settled = (view, shared) =>
  vi.waitFor(
    () => {
      if (shared.scheduled || view.redraw.frame !== null) throw new Error("redraw pending");
    },
    { timeout: 5000, interval: 5 },
  );
let uid = 0;
const views = [];

function makeView(extra = {}) {
  const traits = { _uid: `view-test-${++uid}`, status: "idle", step: 0, epoch: 0, target_epoch: 0, epochs: 30, latent_dim: 3, beta: 1, lr: 0.001, kl_schedule: "constant", sample_temperature: 1, alerts: [], grids: {}, ...extra };
  const model = fakeModel(traits);
  const shared = vaeState(model);
  const el = document.createElement("div");
  document.body.append(el);
  const view = new VAEView(model, el, shared);
  shared.views.add(view);
  views.push({ view, shared });
  // jsdom has no layout: give the panels' boxes a width
  for (const box of el.querySelectorAll(".vw-curves, .vw-kl-heatmap, .vw-rd, .vw-mig, .vw-grid")) setWidth(box, 400);
  return { model, view, el, root: view.root, shared };
}

afterEach(() => {
  for (const { view, shared } of views.splice(0)) {
    shared.views.delete(view);
    if (!view.destroyed) view.destroy();
    shared.dispose();
  }
  document.body.removeAttribute("data-jp-theme-light");
});

const ROWS = [1, 2, 3].map((i) => ({ step: 10 * i, epoch: i / 2, elbo: 50 - i, recon: 45 - i, kl: 5 + i, kl_per_dim: [0.1 * i, 0, 1] }));
const grid = (rows, cols) => ({ meta: { shape: [rows, cols, 1, 8, 8], labels: { layout: "image" }, step: 30 }, px: new DataView(new Uint8Array(rows * cols * 64).fill(90).buffer) });

describe("VAEView assembly", () => {
  it("header, toolbar, parameters, banners, alerts, then the panels in order", () => {
    const { root } = makeView();
    expect([...root.children].map((e) => e.className.split(" ")[0])).toEqual(["vw-header", "vw-toolbar", "vw-params", "vw-banner", "vw-banner", "vw-alerts", "vw-panels"]);
    const panels = root.querySelector(".vw-panels");
    const names = [...panels.children].map((e) => (e.classList.contains("vw-panel-stack") ? [...e.children].map((c) => c.classList[1]) : e.classList[1]));
    expect(names).toEqual(["vw-panel-curves", "vw-panel-kl", "vw-panel-rd", "vw-panel-mig", ["vw-panel-reconstructions", "vw-panel-samples"], ["vw-panel-traversal", "vw-panel-interpolation"], "vw-panel-selection"]);
    // the temperature slider sits in the samples panel's head
    expect(root.querySelector(".vw-panel-samples .vw-panel-head [data-param=sample_temperature]")).not.toBe(null);
    expect(root.querySelector(".vw-params [data-param=sample_temperature]")).toBe(null);
    // hidden without data: the disentanglement and the selection
    expect(root.querySelector(".vw-panel-mig").hidden).toBe(true);
    expect(root.querySelector(".vw-panel-selection").hidden).toBe(true);
  });

  it("clicks and edits become command messages", () => {
    const { model, root } = makeView();
    root.querySelector(".vw-run").click();
    expect(model.sent.at(-1)).toEqual({ type: "command", action: "run" });
    model.change("status", "running");
    root.querySelector(".vw-pause").click();
    expect(model.sent.at(-1)).toEqual({ type: "command", action: "pause" });
    model.change("status", "paused");
    root.querySelector(".vw-run").click();
    expect(model.sent.at(-1)).toEqual({ type: "command", action: "resume" });
    root.querySelector(".vw-stop").click();
    expect(model.sent.at(-1)).toEqual({ type: "command", action: "stop" });
    const beta = root.querySelector("[data-param=beta]");
    beta.value = "4";
    beta.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(model.sent.at(-1)).toEqual({ type: "command", action: "set", params: { beta: 4 } });
  });

  it("status traits: data attributes, header, placeholders", () => {
    const { model, root } = makeView();
    expect(root.querySelector(".vw-panel-samples .vw-panel-empty").textContent).toBe("Press Train to start");
    model.change("step", 120);
    model.change("epoch", 1.5);
    model.change("target_epoch", 3);
    model.change("status", "running");
    expect(root.dataset).toMatchObject({ status: "running", step: "120", epoch: "1.5" });
    expect(root.querySelector(".vw-status").textContent).toBe("training");
    expect(root.querySelector(".vw-progress-text").textContent).toBe("epoch 1.5 / 3 · step 120");
    expect(root.querySelector(".vw-panel-samples .vw-panel-empty").textContent).toBe("Waiting for the first images…");
    expect(root.querySelector(".vw-chart-empty").textContent).toBe("Waiting for the first metrics…");
  });

  it("watching a user's loop: no parameter inputs or Train, placeholders that say v.log", () => {
    const { model, root } = makeView({ mode: "watch", epochs: 1 });
    expect(root.dataset.mode).toBe("watch");
    expect(root.querySelector(".vw-params").hidden).toBe(true);
    expect(root.querySelector(".vw-run").hidden).toBe(true);
    expect(root.querySelector(".vw-panel-samples .vw-panel-empty").textContent).toMatch(/v\.log/);
    expect(root.querySelector(".vw-chart-empty").textContent).toMatch(/v\.log/);
    model.change("status", "running");
    model.change("step", 40);
    expect(root.querySelector(".vw-progress-text").textContent).toBe("epoch 0 · step 40");
    expect(root.querySelector(".vw-pause").disabled).toBe(false);
    model.change("mode", "train");
    expect(root.querySelector(".vw-params").hidden).toBe(false);
  });

  it("metrics messages redraw the curves, the KL heatmap and the rate-distortion plot", async () => {
    const { model, root, view, shared } = makeView({ active_units: 2 });
    model.emit("msg:custom", { type: "metrics", rows: ROWS });
    await settled(view, shared);
    expect(root.dataset.metrics).toBe("3");
    expect(view.panels.curves.chart.uplot.data[0]).toEqual([10, 20, 30]);
    expect(root.querySelector(".vw-kl-canvas").hidden).toBe(false);
    expect(root.querySelector(".vw-kl-canvas").getContext("2d").texts).toEqual(expect.arrayContaining(["z0", "z1", "z2"]));
    expect(root.querySelector(".vw-active-units").textContent).toBe("2 / 3 active");
    expect(root.querySelector(".vw-rd-canvas").getContext("2d").texts).toContain("now");
    expect(root.querySelector(".vw-panel-rd .vw-chart-readout").textContent).toBe("KL 8 · recon 42");
    // the active units follow their trait
    model.change("active_units", 3);
    await settled(view, shared);
    expect(root.querySelector(".vw-active-units").textContent).toBe("3 / 3 active");
  });

  it("each grid trait reaches its panel; the view counts grid draws", async () => {
    const { model, root, view, shared } = makeView();
    const s = grid(4, 8), t = grid(3, 9);
    model.set("grid_samples", s.px);
    model.set("grid_traversal", t.px);
    model.change("grids", { samples: s.meta, traversal: { ...t.meta, labels: { layout: "image", base: 5 } } });
    await settled(view, shared);
    expect(root.dataset.grids).toBe("2");
    expect(root.querySelector(".vw-panel-samples canvas").getContext("2d").ops("drawImage").length).toBe(32);
    expect(root.querySelector(".vw-panel-traversal .vw-traversal-base").textContent).toBe("base: row #5");
    expect(root.querySelector(".vw-panel-reconstructions .vw-panel-empty").hidden).toBe(false);
    // a new samples grid redraws the samples panel only
    model.change("grid_samples", grid(4, 8).px);
    await settled(view, shared);
    expect(root.dataset.grids).toBe("3");
  });

  it("disentanglement, selection, alerts, notice, error and info reach their places", async () => {
    const { model, root, view, shared } = makeView();
    model.change("disentanglement", { factors: ["shape"], latent_dim: 3, mi: [[0.5], [0], [0]], mi_normalized: [[0.5], [0], [0]], gaps: [0.5], mig: 0.5, epoch: 1, history: [[1, 0.5]] });
    const sel = grid(2, 3);
    model.set("grid_selection", sel.px);
    model.change("selection", { ...sel.meta, count: 3, shown: 3 });
    model.change("alerts", [{ kind: "collapse", message: "units unused", step: 10 }]);
    model.change("info", "600 samples");
    model.change("error", "boom");
    await settled(view, shared);
    expect(root.querySelector(".vw-panel-mig").hidden).toBe(false);
    expect(root.dataset.mig).toBe("0.5");
    expect(root.querySelector(".vw-panel-selection").hidden).toBe(false);
    expect(root.querySelector(".vw-selection-count").textContent).toBe("3 selected");
    expect(root.dataset.alerts).toBe("1");
    expect(root.querySelector(".vw-alert-collapse .vw-alert-message").textContent).toBe("units unused");
    expect(root.querySelector(".vw-info").textContent).toBe("600 samples");
    expect(root.querySelector(".vw-error").hidden).toBe(false);
    // Clear in the selection panel empties the selection in the kernel
    root.querySelector(".vw-selection-clear").click();
    expect(model.get("selection_indices")).toEqual([]);
    expect(model.saved).toBe(1);
    // a refused edit: the notice shows and the input reverts
    const beta = root.querySelector("[data-param=beta]");
    beta.value = "-1";
    beta.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    model.change("notice", "beta must be ≥ 0");
    expect(root.querySelector(".vw-notice").hidden).toBe(false);
    expect(beta.value).toBe("1");
    // a parameter trait shows in its input
    model.change("lr", 0.003);
    expect(root.querySelector("[data-param=lr]").value).toBe("0.003");
    expect(view.panels.selection.draws).toBe(1);
  });

  it("panels shown by the data there is: showPanel hides one (not drawn) and draws it again when shown; no validation, no validation series", async () => {
    const { model, root, view, shared } = makeView();
    const s = grid(2, 2);
    model.set("grid_interpolation", s.px);
    model.change("grids", { interpolation: s.meta });
    await settled(view, shared);
    view.showPanel("interpolation", false);
    expect(root.querySelector(".vw-panel-interpolation").hidden).toBe(true);
    const before = view.panels.interpolation.draws;
    // hidden: new data are not drawn (nor retried)
    model.change("grid_interpolation", grid(2, 2).px);
    await settled(view, shared);
    expect(view.panels.interpolation.draws).toBe(before);
    expect(view.redraw.skipped.size).toBe(0);
    view.showPanel("interpolation", true);
    await settled(view, shared);
    expect(root.querySelector(".vw-panel-interpolation").hidden).toBe(false);
    expect(view.panels.interpolation.draws).toBe(before + 1);
    // the loss curves without a validation set: no validation series in the legend
    model.emit("msg:custom", { type: "metrics", rows: ROWS });
    await settled(view, shared);
    expect(root.querySelector(".vw-series-item[data-series=val]").hidden).toBe(true);
    model.change("epoch_metrics", { epoch: [1], val_elbo: [40] });
    await settled(view, shared);
    expect(root.querySelector(".vw-series-item[data-series=val]").hidden).toBe(false);
  });

  it("a theme change redraws the canvases in the new colours", async () => {
    const { model, root, view, shared } = makeView();
    model.emit("msg:custom", { type: "metrics", rows: ROWS });
    await settled(view, shared);
    const rd = root.querySelector(".vw-rd-canvas").getContext("2d");
    expect(rd.ops("stroke").some((c) => c.strokeStyle === "#1f5fa8")).toBe(true);
    rd.reset();
    root.style.setProperty("--vw-bg", "#111111");
    document.body.dataset.jpThemeLight = "false";
    await vi.waitFor(() => expect(rd.ops("stroke").some((c) => c.strokeStyle === "#7fb2e5")).toBe(true), { timeout: 5000, interval: 5 });
  });

  it("destroy removes the view and every listener it added; nothing is drawn afterwards", async () => {
    const { model, root, view, el, shared } = makeView();
    const withShared = model.handlerCount();
    view.destroy();
    expect(el.children.length).toBe(0);
    expect(root.isConnected).toBe(false);
    // only the shared state's own listeners are left (msg:custom, metrics, kl_per_dim, latent_dim, epoch_metrics)
    expect(model.handlerCount()).toBeLessThan(withShared);
    expect(model.handlerCount()).toBe(5);
    shared.views.delete(view);
    const err = vi.spyOn(console, "error");
    model.change("grids", {});
    model.emit("msg:custom", { type: "metrics", rows: ROWS });
    await sleep(40);
    expect(err).not.toHaveBeenCalled();
    err.mockRestore();
  });
});
