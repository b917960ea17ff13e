// Pointer input of a WebGL scatter (scatter_gl.js): which camera moves are the
// user's (wheel, a drag without the lasso), the Shift+drag lasso inside
// JupyterLab, hover and click answered from the scatter's own hit-testing
// (view._pick), and a double-click that clears the selection. The scatter keeps
// the state the handlers share (down, pressAt, tempLasso, lassoMode); this
// module owns the listeners: attachPointerInput() returns the function that
// removes every one of them.

const CLICK_SLOP_PX = 3;

/**
 * @param {object} view  the GLScatter (canvas, sp, lassoMode, _pick, _hover, _interacted)
 * @param {object} o  its options (onSelect)
 * @returns {() => void} detach
 */
export function attachPointerInput(view, o) {
  // Distinguish user camera moves (wheel, drag without the lasso) from ours.
  const onWheel = () => view._interacted();
  const onDown = (e) => {
    view.down = !(e.shiftKey || view.lassoMode || view.tempLasso) ? [e.clientX, e.clientY] : null;
  };
  // Shift+drag lasso. JupyterLab's notebook treats shift+mousedown as the
  // start of a cell-range selection and then swallows mousemove events, so
  // regl-scatterplot's own shift lasso never sees the drag. We intercept the
  // shift+mousedown on the canvas before Lab (window, capture phase), switch
  // regl-scatterplot to lasso mode for this one drag and replay the
  // mousedown without the modifier.
  const onCaptureDown = (e) => {
    if (e.target !== view.canvas || !e.isTrusted || e.button !== 0 || !e.shiftKey || view.lassoMode) return;
    e.stopPropagation();
    e.preventDefault();
    view.tempLasso = true;
    view.sp.set({ mouseMode: "lasso" });
    const init = {
      bubbles: true, cancelable: true, view: window, button: 0, buttons: 1,
      clientX: e.clientX, clientY: e.clientY, screenX: e.screenX, screenY: e.screenY,
    };
    view.canvas.dispatchEvent(new MouseEvent("mousedown", init));
  };
  const onCaptureUp = () => {
    if (!view.tempLasso) return;
    view.tempLasso = false;
    // after regl-scatterplot's own mouseup handler has ended the lasso
    setTimeout(() => {
      if (!view.destroyed && !view.lassoMode) view.sp.set({ mouseMode: "panZoom" });
    }, 0);
  };
  const onMove = (e) => {
    if (view.down && e.buttons & 1) {
      const d = Math.hypot(e.clientX - view.down[0], e.clientY - view.down[1]);
      if (d > 3) view._interacted();
    }
  };
  const onUp = () => {
    view.down = null;
  };
  // hover and click: the nearest drawn point within a few pixels of the mouse
  const onHoverMove = (e) => {
    if (e.buttons || view.tempLasso) return;
    view._hover(view._pick(e));
  };
  const onLeave = () => view._hover(null);
  const onPress = (e) => {
    view.pressAt = [e.clientX, e.clientY];
  };
  const onDblClick = () => o.onSelect?.([]);
  const onClick = (e) => {
    const p = view.pressAt;
    if (view.lassoMode || e.shiftKey || !p || Math.hypot(e.clientX - p[0], e.clientY - p[1]) > CLICK_SLOP_PX) return;
    const i = view._pick(e);
    if (i === null) return; // a click on empty space keeps the selection (double-click clears it)
    o.onSelect?.([i]); // the view decides: a t-SNE view focuses the point, a sweep selects it
  };
  const c = view.canvas;
  const listeners = [
    [c, "wheel", onWheel, { passive: true }],
    [c, "mousedown", onDown],
    [c, "mousedown", onPress],
    [c, "mousemove", onHoverMove],
    [c, "mouseleave", onLeave],
    [c, "click", onClick],
    [c, "dblclick", onDblClick],
    [window, "mousemove", onMove],
    [window, "mouseup", onUp],
    [window, "mousedown", onCaptureDown, true], // capture: before JupyterLab sees it
    [window, "mouseup", onCaptureUp, true],
  ];
  for (const [target, type, fn, opts] of listeners) target.addEventListener(type, fn, opts);
  return () => {
    for (const [target, type, fn, opts] of listeners) target.removeEventListener(type, fn, opts);
  };
}
