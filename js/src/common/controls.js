// Toolbar buttons, parameter inputs, progress bar and banners.

import { h, icon, ICONS, setText } from "./dom.js";

/** An icon button: h("button.vw-btn.<cls>") with an SVG icon and a text label. */
export function iconButton(cls, iconName, label, title) {
  const labelEl = h("span.vw-btn-label", {}, label);
  const btn = h(`button.vw-btn.${cls}`, { type: "button", title }, icon(ICONS[iconName]), labelEl);
  btn.setLabel = (text) => setText(labelEl, text);
  return btn;
}

/**
 * Parse a parameter input's text. Numbers become numbers; "auto" is kept for
 * parameters that allow it; anything else is sent as typed so the kernel can
 * reject it with a clear notice. Returns undefined for empty input.
 */
export function parseParamInput(text, allowAuto = false) {
  const t = String(text ?? "").trim();
  if (!t) return undefined;
  if (allowAuto && t.toLowerCase() === "auto") return "auto";
  const v = Number(t.replace(/_/g, ""));
  return Number.isFinite(v) ? v : t;
}

/** Trait value -> input text. */
export function formatParamValue(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return String(v);
}

/**
 * A labelled text input for a kernel-validated parameter.
 * spec: {name, label, help, live, auto}
 * onCommit(name, value) is called on Enter / blur when the text changed.
 */
export function paramField(spec, onCommit) {
  const input = h("input.vw-param", {
    type: "text",
    spellcheck: false,
    autocomplete: "off",
    title: spec.help,
    dataset: { param: spec.name },
    attrs: { inputmode: spec.auto ? "text" : "decimal", "aria-label": spec.label, size: "6" },
  });
  const label = h(
    "label.vw-param-field",
    { title: spec.help },
    h("span.vw-param-label", {}, spec.label, spec.live ? h("span.vw-live", { title: "acts live, during a run" }, "live") : null),
    input,
  );
  let current = "";
  let pendingTimer = null;
  const clearPending = () => {
    input.classList.remove("vw-pending");
    clearTimeout(pendingTimer);
    pendingTimer = null;
  };
  const commit = () => {
    const text = input.value.trim();
    if (text === current) return;
    const value = parseParamInput(text, spec.auto);
    if (value === undefined) {
      input.value = current;
      return;
    }
    input.classList.add("vw-pending");
    clearTimeout(pendingTimer);
    // If the kernel neither accepts (trait changes) nor rejects (notice), revert.
    pendingTimer = setTimeout(() => field.revert(), 4000);
    onCommit(spec.name, value);
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      commit();
    } else if (e.key === "Escape") {
      input.value = current;
      input.blur();
    }
    e.stopPropagation(); // keep notebook shortcuts out of the input
  });
  input.addEventListener("blur", commit);
  const field = {
    el: label,
    input,
    /** New value from the kernel. */
    set(v) {
      current = formatParamValue(v);
      clearPending();
      if (document.activeElement !== input || input.value === current) input.value = current;
    },
    /** Kernel rejected (or ignored) the edit: show the kernel's value again. */
    revert() {
      if (!input.classList.contains("vw-pending")) return;
      clearPending();
      input.value = current;
    },
    destroy() {
      clearTimeout(pendingTimer);
    },
  };
  return field;
}

/** Progress bar with a message: {el, set(fraction 0..1, message)}. */
export function progressBar() {
  const fill = h("div.vw-progress-fill");
  const msg = h("span.vw-progress-message");
  const pct = h("span.vw-progress-pct");
  const track = h("div.vw-progress-track", { attrs: { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" } }, fill);
  const el = h("div.vw-progress", { hidden: true }, track, h("div.vw-progress-text", {}, msg, pct));
  return {
    el,
    set(fraction, message) {
      const f = Number.isFinite(fraction) ? Math.max(0, Math.min(1, fraction)) : 0;
      fill.style.width = `${(f * 100).toFixed(1)}%`;
      track.setAttribute("aria-valuenow", String(Math.round(f * 100)));
      setText(msg, message || "");
      setText(pct, `${Math.round(f * 100)}%`);
    },
  };
}

/** A banner (error / notice) with optional dismiss button. */
export function banner(cls, { dismissable = false, autoHideMs = 0 } = {}) {
  const text = h("span.vw-banner-text");
  const close = dismissable
    ? h("button.vw-banner-close.vw-close", { type: "button", title: "Dismiss" }, icon(ICONS.close))
    : null;
  const el = h(`div.vw-banner.${cls}`, { hidden: true, attrs: { role: cls === "vw-error" ? "alert" : "status" } }, text, close);
  let timer = null;
  const hide = () => {
    el.hidden = true;
    clearTimeout(timer);
  };
  close?.addEventListener("click", hide);
  return {
    el,
    set(message) {
      clearTimeout(timer);
      setText(text, message || "");
      el.hidden = !message;
      if (message && autoHideMs) timer = setTimeout(hide, autoHideMs);
    },
    destroy() {
      clearTimeout(timer);
    },
  };
}

function fieldLabel(spec, control, ...extra) {
  return h(
    "label.vw-param-field",
    { title: spec.help },
    h("span.vw-param-label", {}, spec.label, spec.live ? h("span.vw-live", { title: "acts live, during a run" }, "live") : null),
    control,
    ...extra,
  );
}

/** Kernel-validated edit: pending until the kernel answers, reverted after 4 s of silence. */
function pendingState(el, onTimeout) {
  let timer = null;
  return {
    start() {
      el.classList.add("vw-pending");
      clearTimeout(timer);
      timer = setTimeout(onTimeout, 4000);
    },
    clear() {
      el.classList.remove("vw-pending");
      clearTimeout(timer);
      timer = null;
    },
    get on() {
      return el.classList.contains("vw-pending");
    },
  };
}

/**
 * A labelled <select> for a kernel-validated choice parameter.
 * spec: {name, label, help, live, options: [value | {value, label}]}
 * Same interface as paramField: {el, input, set(v), revert(), destroy()}.
 */
export function selectField(spec, onCommit) {
  const input = h(
    "select.vw-param.vw-param-select",
    { title: spec.help, dataset: { param: spec.name }, attrs: { "aria-label": spec.label } },
    (spec.options || []).map((o) => {
      const value = typeof o === "object" ? o.value : o;
      return h("option", { value: String(value) }, typeof o === "object" ? (o.label ?? String(value)) : String(value));
    }),
  );
  let current = "";
  const pending = pendingState(input, () => field.revert());
  input.addEventListener("change", () => {
    if (input.value === current) return;
    pending.start();
    onCommit(spec.name, input.value);
  });
  input.addEventListener("keydown", (e) => e.stopPropagation());
  const field = {
    el: fieldLabel(spec, input),
    input,
    set(v) {
      current = formatParamValue(v);
      pending.clear();
      if (current && ![...input.options].some((o) => o.value === current)) input.append(h("option", { value: current }, current));
      input.value = current;
    },
    revert() {
      if (!pending.on) return;
      pending.clear();
      input.value = current;
    },
    destroy() {
      pending.clear();
    },
  };
  return field;
}

/**
 * A labelled range slider with a value read-out, for a kernel-validated number.
 * spec: {name, label, help, live, min, max, step, digits}
 * While dragging it sends at most every `throttleMs` (live preview), and once on release.
 * Same interface as paramField: {el, input, set(v), revert(), destroy()}.
 */
export function sliderField(spec, onCommit, { throttleMs = 250 } = {}) {
  const input = h("input.vw-param.vw-param-slider", {
    type: "range",
    title: spec.help,
    dataset: { param: spec.name },
    attrs: { min: String(spec.min ?? 0), max: String(spec.max ?? 1), step: String(spec.step ?? 0.05), "aria-label": spec.label },
  });
  const out = h("span.vw-param-value");
  const fmt = (v) => (Number.isFinite(v) ? v.toFixed(spec.digits ?? 2) : "–");
  let current = NaN;
  let lastSent = NaN;
  let lastSendAt = 0;
  let trailing = null;
  let dragging = false;
  const pending = pendingState(input, () => field.revert());
  const send = () => {
    clearTimeout(trailing);
    trailing = null;
    const v = Number(input.value);
    if (!Number.isFinite(v) || v === lastSent) return;
    lastSent = v;
    lastSendAt = Date.now();
    pending.start();
    onCommit(spec.name, v);
  };
  input.addEventListener("input", () => {
    dragging = true;
    setText(out, fmt(Number(input.value)));
    const wait = throttleMs - (Date.now() - lastSendAt);
    if (wait <= 0) send();
    else if (!trailing) trailing = setTimeout(send, wait);
  });
  input.addEventListener("change", () => {
    dragging = false;
    send();
  });
  input.addEventListener("keydown", (e) => e.stopPropagation());
  const field = {
    el: fieldLabel(spec, input, out),
    input,
    set(v) {
      current = Number(v);
      lastSent = current;
      pending.clear();
      if (!dragging && Number.isFinite(current)) {
        input.value = String(current);
        setText(out, fmt(current));
      }
    },
    revert() {
      if (!pending.on) return;
      pending.clear();
      dragging = false;
      lastSent = current;
      if (Number.isFinite(current)) input.value = String(current);
      setText(out, fmt(current));
    },
    destroy() {
      pending.clear();
      clearTimeout(trailing);
    },
  };
  return field;
}
