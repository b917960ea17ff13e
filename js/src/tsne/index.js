// TSNEWidget front end (anywidget ESM entry point): one widget factory
// (common/widget.js) with this model's frame stream in its closure; a view per
// display(w).

import "uplot/dist/uPlot.min.css";
import "../common/base.css";
import "../common/points.css";
import "./tsne.css";
import { widgetFactory } from "../common/widget.js";
import { tsneStream } from "./stream.js";
import { TSNEView } from "./view.js";

export default widgetFactory({ createStream: tsneStream, View: TSNEView });
