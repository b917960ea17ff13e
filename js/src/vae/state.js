// The state shared by all views of one VAEWidget model, made once per model by
// the widget factory (common/widget.js), which keeps it in its closure: nothing
// is keyed on a synced id at module level. It owns the metric history: the
// `metrics` + `kl_per_dim` traits are the base, live {type: "metrics", rows}
// messages are appended; likewise the epoch rows (`epoch_metrics` +
// {type: "epoch", row}); the model's views (the factory's live Set) are told at
// most once per animation frame.

import { EPOCH, METRICS } from "../common/schema.js";
import { EpochStore, MetricsStore } from "./metrics.js";

const raf = (fn) =>
  typeof requestAnimationFrame === "function" ? requestAnimationFrame(fn) : setTimeout(fn, 16);

export function vaeState(model, views = new Set()) {
  const s = { model, views, store: new MetricsStore(), epochs: new EpochStore(), messages: 0, scheduled: false, needReplace: false, needEpochs: false };

  const replace = () => {
    s.needReplace = false;
    s.store.replace(model.get("metrics"), model.get("kl_per_dim"), model.get("latent_dim"));
  };
  const replaceEpochs = () => {
    s.needEpochs = false;
    s.epochs.replace(model.get("epoch_metrics"));
  };
  replace();
  replaceEpochs();

  const tick = () => {
    s.scheduled = false;
    if (s.needReplace) replace();
    if (s.needEpochs) replaceEpochs();
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
    if (s.needEpochs) replaceEpochs();
  };

  const onMsg = (msg) => {
    if (!msg) return;
    if (msg.type === METRICS) {
      s.messages++;
      // A trait change not yet applied goes first, so its rows are the base.
      if (s.needReplace) replace();
      if (s.store.append(msg.rows)) s.schedule();
    } else if (msg.type === EPOCH) {
      if (s.needEpochs) replaceEpochs();
      if (s.epochs.append(msg.row)) s.schedule();
    }
  };
  const onTrait = () => {
    s.needReplace = true;
    s.schedule();
  };
  const onEpochTrait = () => {
    s.needEpochs = true;
    s.schedule();
  };
  model.on("msg:custom", onMsg);
  model.on("change:metrics", onTrait);
  model.on("change:kl_per_dim", onTrait);
  model.on("change:latent_dim", onTrait);
  model.on("change:epoch_metrics", onEpochTrait);

  s.dispose = () => {
    model.off("msg:custom", onMsg);
    model.off("change:metrics", onTrait);
    model.off("change:kl_per_dim", onTrait);
    model.off("change:latent_dim", onTrait);
    model.off("change:epoch_metrics", onEpochTrait);
  };
  return s;
}
