// One regl renderer for every WebGL scatter on the page (scatter_gl.js): browsers
// cap the number of live WebGL contexts, and notebooks may show many widgets.
// Each scatter acquires it with its size and releases it when it is destroyed;
// the renderer's own canvas is sized to the largest user, and it is destroyed a
// few seconds after its last user left (a re-rendered cell releases and acquires
// right away). webglAvailable() says whether a scatter can be made at all.

import { createRenderer } from "regl-scatterplot";

let sharedRenderer = null;
let releaseTimer = null;
const rendererUsers = new Map(); // GLScatter -> [width, height] in CSS px

// The shared renderer draws into its own (offscreen) canvas, then copies the
// pixels to each view's canvas. regl-scatterplot sizes that canvas to the
// window by default; we size it to the largest view instead, which is far
// cheaper per frame (notably with software WebGL).
function fitRenderer() {
  if (!sharedRenderer) return;
  let w = 1, h = 1;
  for (const [ww, hh] of rendererUsers.values()) {
    w = Math.max(w, ww);
    h = Math.max(h, hh);
  }
  const dpr = window.devicePixelRatio || 1;
  const c = sharedRenderer.canvas;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    sharedRenderer.resize(w, h);
    sharedRenderer.refresh();
  }
}

export function acquireRenderer(user, width, height) {
  if (releaseTimer) {
    clearTimeout(releaseTimer);
    releaseTimer = null;
  }
  if (!sharedRenderer) {
    sharedRenderer = createRenderer({ canvas: document.createElement("canvas") });
    window.addEventListener("resize", fitRenderer); // browser zoom changes devicePixelRatio
  }
  rendererUsers.set(user, [width, height]);
  fitRenderer();
  return sharedRenderer;
}

export function resizeRendererUser(user, width, height) {
  rendererUsers.set(user, [width, height]);
  fitRenderer();
}

export function releaseRenderer(user) {
  rendererUsers.delete(user);
  if (rendererUsers.size === 0 && sharedRenderer && !releaseTimer) {
    // Delay: a re-rendered cell releases and acquires right away.
    releaseTimer = setTimeout(() => {
      releaseTimer = null;
      if (rendererUsers.size === 0 && sharedRenderer) {
        window.removeEventListener("resize", fitRenderer);
        try {
          sharedRenderer.destroy();
        } catch (_) {
          /* already gone */
        }
        sharedRenderer = null;
      }
    }, 3000);
  } else {
    fitRenderer();
  }
}

let webglProbe = null;
/** Can this browser make a WebGL context with float textures? (cached) */
export function webglAvailable() {
  if (webglProbe !== null) return webglProbe;
  try {
    const c = document.createElement("canvas");
    const gl = c.getContext("webgl");
    webglProbe = Boolean(gl && gl.getExtension("OES_texture_float"));
    gl?.getExtension("WEBGL_lose_context")?.loseContext();
  } catch (_) {
    webglProbe = false;
  }
  return webglProbe;
}
