// VAEWidget front end (anywidget ESM entry point): one widget factory
// (common/widget.js) with this model's shared state (state.js: the metric and
// epoch histories) in its closure; a view per display(v).

import "uplot/dist/uPlot.min.css";
import "../common/base.css";
import "./vae.css";
import { widgetFactory } from "../common/widget.js";
import { vaeState } from "./state.js";
import { VAEView } from "./view.js";

export default widgetFactory({ createStream: vaeState, View: VAEView });
