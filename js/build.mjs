// Bundle the widget front ends into vae_widgets/static/ (ESM, minified,
// every dependency inside: the widgets must work offline).
//
//   node build.mjs            one build
//   node build.mjs --watch    rebuild on change (pair with ANYWIDGET_HMR=1)
//
// Each entry <name> -> static/<name>.js and static/<name>.css (CSS imported
// by the entry, uPlot's included). To add a widget, add one line below.

import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

const ENTRIES = {
  tsne: "src/tsne/index.js",
  sweep: "src/sweep/index.js",
  vae: "src/vae/index.js",
  anomaly: "src/anomaly/index.js",
};

const watch = process.argv.includes("--watch");

// The spatial-index worker (src/common/spatial_index.worker.js, with kdbush) is
// bundled first, into a string the widgets start as a Blob worker: one file per
// widget, nothing fetched at run time.
const worker = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/common/spatial_index.worker.js"],
  bundle: true,
  write: false,
  format: "iife",
  minify: true,
  target: "es2020",
  legalComments: "none",
  logLevel: "warning",
});

const options = {
  absWorkingDir: here,
  entryPoints: ENTRIES,
  outdir: path.join(here, "..", "vae_widgets", "static"),
  entryNames: "[name]",
  bundle: true,
  format: "esm",
  minify: !process.argv.includes("--no-minify"),
  target: "es2020",
  sourcemap: false,
  legalComments: "none",
  logLevel: "info",
  define: { __VW_SPATIAL_INDEX_WORKER__: JSON.stringify(worker.outputFiles[0].text) },
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log("watching js/src for changes (Ctrl+C to stop)");
} else {
  await esbuild.build(options);
}
