// t-SNE parameters shown as editable inputs. The front end never sets these
// traits: it sends {type: "command", action: "set", params: {name: value}}
// and the kernel validates, then updates the trait or sets `notice`.

const NEXT = "Takes effect on the next run.";
const LIVE = "Live: applies immediately, also during a run.";

export const PARAMS = [
  {
    name: "perplexity",
    label: "perplexity",
    help: `Perplexity: the effective number of neighbours each point tries to keep close (typically 5–50). Larger values keep more global structure. ${NEXT} (the affinities are recomputed)`,
  },
  {
    name: "early_exaggeration",
    label: "early exag.",
    live: true,
    help: "Early exaggeration: how strongly neighbours attract during the early-exaggeration phase (typically 12), so clusters form and separate first. Live while a run is still in that phase; otherwise used by the next run.",
  },
  {
    name: "exaggeration",
    label: "exaggeration",
    live: true,
    help: `Exaggeration in the main phase: 1 is standard t-SNE; values above 1 give tighter, more separated clusters. ${LIVE}`,
  },
  {
    name: "learning_rate",
    label: "learning rate",
    live: true,
    auto: true,
    help: `Learning rate (gradient step size): a number, or "auto" to choose it from the number of points (recommended). ${LIVE}`,
  },
  {
    name: "random_state",
    label: "seed",
    help: `Random seed for the initial layout (and approximate neighbours): the same seed gives the same result. ${NEXT}`,
  },
  {
    name: "n_iter",
    label: "iterations",
    help: `Number of optimisation iterations in the main phase (after early exaggeration). ${NEXT}`,
  },
];
