// VAE parameters shown as inputs. The front end never sets these traits: it
// sends {type: "command", action: "set", params: {name: value}}; the kernel
// validates, then updates the trait or sets `notice` (and the input reverts).

const LIVE = "Live: applies immediately, also during training.";

export const PARAMS = [
  {
    name: "beta",
    label: "β",
    live: true,
    help: `β: weight of the KL term in the loss (−ELBO = reconstruction + β·KL). β > 1 pushes towards a simpler, more disentangled latent code and blurrier reconstructions; β < 1 towards sharper reconstructions. ${LIVE}`,
  },
  {
    name: "lr",
    label: "learning rate",
    live: true,
    help: `Learning rate of the Adam optimiser (typically 1e-4 to 3e-3). Too large: the loss jumps or diverges. ${LIVE}`,
  },
  {
    name: "kl_schedule",
    label: "KL schedule",
    live: true,
    kind: "select",
    options: [
      { value: "constant", label: "constant" },
      { value: "linear", label: "linear warm-up" },
      { value: "cyclical", label: "cyclical" },
    ],
    help: `How β is ramped: constant (always β), linear warm-up (0 → β over the first epochs, so the decoder learns to use z before the KL term bites), cyclical (repeated ramps, a known cure for posterior collapse). ${LIVE}`,
  },
  {
    name: "epochs",
    label: "epochs",
    help: "How many epochs the Train button trains (counted from where the model is now).",
  },
];

export const TEMPERATURE = {
  name: "sample_temperature",
  label: "temperature",
  live: true,
  min: 0.1,
  max: 2,
  step: 0.05,
  digits: 2,
  help: "Sampling temperature T: samples decode z ~ N(0, T²I). T < 1 gives more typical, cleaner samples; T > 1 more varied and stranger ones. Live: the samples grid re-renders.",
};
