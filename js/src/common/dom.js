// Tiny DOM helpers.

/**
 * h("div.vw-a.vw-b", {title: "x", dataset: {k: "v"}, onclick}, child, "text", ...)
 * Creates an element; props go to the element (style / dataset merged),
 * `attrs` sets attributes, children may be nodes, strings or null.
 */
export function h(tagAndClasses, props = {}, ...children) {
  const [tag, ...classes] = tagAndClasses.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === "style") Object.assign(el.style, v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "attrs") for (const [a, av] of Object.entries(v)) el.setAttribute(a, av);
    else el[k] = v;
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Inline SVG icon from a path string (24x24 viewBox). */
export function icon(pathD, cls = "vw-icon") {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("d", pathD);
  svg.append(p);
  return svg;
}

export const ICONS = {
  play: "M7 4.5v15l12.5-7.5z",
  pause: "M6 4.5h4.2v15H6zM13.8 4.5H18v15h-4.2z",
  stop: "M5.5 5.5h13v13h-13z",
  lasso:
    "M12 3C6.5 3 2.5 6 2.5 9.8c0 2.4 1.6 4.4 4.1 5.6-.2.6-.3 1.2-.3 1.8 0 2.1 1.5 3.8 3.4 3.8v-1.8c-.9 0-1.6-.9-1.6-2 0-.4.1-.8.2-1.2 1.1.3 2.4.5 3.7.5 5.5 0 9.5-3 9.5-6.7S17.5 3 12 3zm0 11.6c-1.1 0-2.2-.2-3.1-.4.6-.7 1.5-1.2 2.5-1.2v-1.8c-1.8 0-3.4 1-4.3 2.4-1.8-.9-2.9-2.3-2.9-3.8C4.2 7.2 7.6 4.8 12 4.8s7.8 2.4 7.8 5-3.4 4.8-7.8 4.8z",
  fit: "M4 9V4h5v2H6v3zm11-5h5v5h-2V6h-3zM6 15v3h3v2H4v-5zm12 0h2v5h-5v-2h3z",
  close: "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z",
};

/** Show / hide an element via the `hidden` attribute (CSS respects it). */
export const show = (el, on) => {
  el.hidden = !on;
};

/** Set textContent only when it changed (avoids layout churn while streaming). */
export function setText(el, text) {
  const t = String(text);
  if (el.textContent !== t) el.textContent = t;
}
