// Message schema between kernel and front end, in one place.
// Mirrors vae_widgets/_schema.py: change both together.

// Kernel -> front end (custom messages)
export const FRAME = "frame"; // {type, id, iteration, phase, key}, buffers[0] = float32 x,y pairs, or uint16 with {encoding: "u16", lo, span}
export const METRICS = "metrics"; // {type, rows: [...]}
export const EPOCH = "epoch"; // {type, row: {epoch, step, train_elbo, val_elbo, ...}}: one finished epoch
export const IMAGES = "images"; // {type, kind, shape, ...}, buffers[0] = uint8 pixels

// Front end -> kernel
export const COMMAND = "command"; // {type, action, params?}
export const ACK = "ack"; // {type, id}: every frame with id <= this one is acknowledged
export const HELLO = "hello"; // {type}: a new view asks for the latest state

// t-SNE analysis, both ways: the view asks, the kernel answers with the same type and view
export const REPLAY = "replay"; // ask {type, view, index}; answer + {iteration, count}, buffers[0] = float32 x,y pairs
export const TRAILS = "trails"; // ask {type, view, indices}; answer + {frames, iterations}, buffers[0] = float32 (frames, m, 2)
// hover text beyond the kernel's shipping budget: ask {type, view, req, indices};
// answer + {columns, values (one list per column), thumbnails?: shape}, buffers[0] = uint8 pixels
export const ROWS = "rows";

export const ACTIONS = Object.freeze(["run", "pause", "resume", "stop", "set"]);

// widget.status values
export const STATUS = Object.freeze({
  IDLE: "idle",
  PREPARING: "preparing",
  AFFINITIES: "affinities",
  RUNNING: "running",
  PAUSED: "paused",
  DONE: "done",
  STOPPED: "stopped",
  ERROR: "error",
});

/** Statuses during which work is under way (Stop makes sense). */
export const ACTIVE_STATUSES = new Set(["preparing", "affinities", "running", "paused"]);
/** Statuses during which a progress bar is shown. */
export const PROGRESS_STATUSES = new Set(["preparing", "affinities"]);

export const command = (action, params) =>
  params === undefined ? { type: COMMAND, action } : { type: COMMAND, action, params };
export const ack = (id) => ({ type: ACK, id });
export const hello = () => ({ type: HELLO });
