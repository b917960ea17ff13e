// TSNESweepWidget front end (anywidget ESM entry point): small multiples of
// t-SNE runs, one per parameter value, with a lasso linked across panels. One
// widget factory (common/widget.js) with this model's frame stream in its closure.

import "../common/base.css";
import "../common/points.css";
import "./sweep.css";
import { widgetFactory } from "../common/widget.js";
import { sweepStream } from "./stream.js";
import { SweepView } from "./view.js";

export default widgetFactory({ createStream: sweepStream, View: SweepView });
