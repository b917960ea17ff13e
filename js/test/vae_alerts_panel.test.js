// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { AlertsPanel, visibleAlerts } from "../src/vae/alerts_panel.js";

const A = [
  { kind: "collapse", message: "3 of 8 units unused", fix: "lower β", epoch: 2, step: 100 },
  { kind: "divergence", message: "loss is NaN", epoch: 3.5, step: 180 },
  { kind: "overfitting", message: "validation rises", step: 100 },
];

describe("AlertsPanel", () => {
  it("hidden without alerts; newest first; kind, message, when, what to try", () => {
    const host = document.createElement("div");
    const p = new AlertsPanel(host);
    p.update([]);
    expect(p.el.hidden).toBe(true);
    p.update(A);
    expect(p.el.hidden).toBe(false);
    const els = [...p.el.querySelectorAll(".vw-alert")];
    expect(els.map((e) => e.dataset.kind)).toEqual(["divergence", "overfitting", "collapse"]);
    expect(els[0].getAttribute("role")).toBe("alert");
    expect(els[1].getAttribute("role")).toBe("status");
    expect(els[0].querySelector(".vw-alert-when").textContent).toBe("epoch 3.5 · step 180");
    expect(els[1].querySelector(".vw-alert-when").textContent).toBe("step 100");
    expect(els[2].querySelector(".vw-alert-fix").textContent).toBe("Try: lower β");
    expect(els[0].querySelector(".vw-alert-fix")).toBe(null);
  });

  it("a dismissed alert stays hidden in this view, also when the list is sent again", () => {
    const p = new AlertsPanel(document.createElement("div"));
    p.update(A);
    p.el.querySelector(".vw-alert-divergence .vw-alert-close").click();
    expect([...p.el.querySelectorAll(".vw-alert")].map((e) => e.dataset.kind)).toEqual(["overfitting", "collapse"]);
    p.update([...A, { kind: "collapse", message: "all units unused", step: 300 }]);
    expect([...p.el.querySelectorAll(".vw-alert")].map((e) => e.dataset.kind)).toEqual(["collapse", "overfitting", "collapse"]);
  });

  it("odd kinds and text are shown as text, not markup", () => {
    const p = new AlertsPanel(document.createElement("div"));
    p.update([{ kind: "x<script>", message: "<b>m</b>" }, null]);
    const el = p.el.querySelector(".vw-alert");
    expect(el.className).toBe("vw-alert vw-alert-xscript");
    expect(el.querySelector(".vw-alert-message").textContent).toBe("<b>m</b>");
    expect(p.el.querySelector("b")).toBe(null);
    expect(visibleAlerts(null)).toEqual([]);
  });
});
