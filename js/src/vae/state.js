// Per-widget state shared by all views of one VAEWidget, keyed on the synced
// `_uid` trait (anywidget may hand initialize() and each render() different
// model proxies). It owns the metric history: the `metrics` + `kl_per_dim`
// traits are the base, live {type: "metrics", rows} messages are appended,
// and the views are told at most once per animation frame.

import { METRICS } from "../common/schema.js";
import { MetricsStore } from "./metrics.js";

const SHARED = new Map();

const raf = (fn) =>
  typeof requestAnimationFrame === "function" ? requestAnimationFrame(fn) : setTimeout(fn, 16);

export function getShared(model) {
  const uid = model.get("_uid") || "";
  let s = SHARED.get(uid);
  if (s) return s;
  s = { uid, model, views: new Set(), store: new MetricsStore(), messages: 0, scheduled: false, needReplace: false };
  SHARED.set(uid, s);

  const replace = () => {
    s.needReplace = false;
    s.store.replace(model.get("metrics"), model.get("kl_per_dim"), model.get("latent_dim"));
  };
  replace();

  const tick = () => {
    s.scheduled = false;
    if (s.needReplace) replace();
    for (const v of s.views) {
      try {
        v.onMetrics();
      } catch (err) {
        console.error("vae_widgets: drawing metrics failed", err);
      }
    }
  };
  s.schedule = () => {
    if (s.scheduled) return;
    s.scheduled = true;
    raf(tick);
  };
  /** Apply a pending trait replace now (a view about to read the store). */
  s.flush = () => {
    if (s.needReplace) replace();
  };

  const onMsg = (msg) => {
    if (!msg || msg.type !== METRICS) return;
    s.messages++;
    // A trait change not yet applied goes first, so its rows are the base.
    if (s.needReplace) replace();
    if (s.store.append(msg.rows)) s.schedule();
  };
  const onTrait = () => {
    s.needReplace = true;
    s.schedule();
  };
  model.on("msg:custom", onMsg);
  model.on("change:metrics", onTrait);
  model.on("change:kl_per_dim", onTrait);
  model.on("change:latent_dim", onTrait);

  s.dispose = () => {
    model.off("msg:custom", onMsg);
    model.off("change:metrics", onTrait);
    model.off("change:kl_per_dim", onTrait);
    model.off("change:latent_dim", onTrait);
    SHARED.delete(uid);
  };
  return s;
}
