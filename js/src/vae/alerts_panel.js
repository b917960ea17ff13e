// The VAE view's training alerts (posterior collapse, divergence,
// overfitting...): newest first, each with its kind, message, when, and what
// to try; dismissing one hides it in this view only.

import { h, icon, ICONS } from "../common/dom.js";
import { fmtInt } from "../common/format.js";
import { fmtEpoch } from "./panel.js";

const keyOf = (a) => `${a.kind}|${a.step}|${a.message}`;

/** The alerts to show, newest step first (later ones first on a tie), without the dismissed ones. */
export function visibleAlerts(list, dismissed = new Set()) {
  return (Array.isArray(list) ? list : [])
    .map((a, i) => ({ a, i }))
    .filter(({ a }) => a && !dismissed.has(keyOf(a)))
    .sort((p, q) => (Number(q.a.step) || 0) - (Number(p.a.step) || 0) || q.i - p.i)
    .map(({ a }) => a);
}

export class AlertsPanel {
  constructor(host) {
    this.el = h("div.vw-alerts", { attrs: { "aria-live": "polite" } });
    this.dismissed = new Set();
    this.list = [];
    host.append(this.el);
  }

  /** Show the `alerts` trait (a list of {kind, message, fix, epoch, step}). */
  update(list) {
    this.list = Array.isArray(list) ? list : [];
    const shown = visibleAlerts(this.list, this.dismissed);
    this.el.replaceChildren(...shown.map((a) => this._alert(a)));
    this.el.hidden = shown.length === 0;
  }

  _alert(a) {
    const kind = String(a.kind || "alert");
    const close = h("button.vw-alert-close.vw-close", { type: "button", title: "Dismiss (in this view)" }, icon(ICONS.close));
    close.addEventListener("click", () => {
      this.dismissed.add(keyOf(a));
      this.update(this.list);
    });
    const when = [Number.isFinite(Number(a.epoch)) ? `epoch ${fmtEpoch(Number(a.epoch))}` : "", Number.isFinite(Number(a.step)) ? `step ${fmtInt(Number(a.step))}` : ""]
      .filter(Boolean)
      .join(" · ");
    return h(
      `div.vw-alert.vw-alert-${kind.replace(/[^a-z0-9_-]/gi, "")}`,
      { dataset: { kind }, attrs: { role: kind === "divergence" ? "alert" : "status" } },
      h(
        "div.vw-alert-body",
        {},
        h("div.vw-alert-head", {}, h("span.vw-alert-kind", {}, kind), h("span.vw-alert-message", {}, String(a.message || "")), h("span.vw-alert-when", {}, when)),
        a.fix ? h("div.vw-alert-fix", {}, h("span.vw-alert-fix-label", {}, "Try: "), String(a.fix)) : null,
      ),
      close,
    );
  }

  destroy() {
    this.el.remove();
  }
}
