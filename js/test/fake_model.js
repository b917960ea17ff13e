// A stand-in for anywidget's model in unit tests: traits, events, sent messages.

export function fakeModel(traits) {
  const handlers = new Map();
  const sent = [];
  return {
    sent,
    traits,
    get: (k) => traits[k],
    set: (k, v) => {
      traits[k] = v;
    },
    save_changes() {
      this.saved = (this.saved || 0) + 1;
    },
    on: (ev, fn) => {
      if (!handlers.has(ev)) handlers.set(ev, new Set());
      handlers.get(ev).add(fn);
    },
    off: (ev, fn) => handlers.get(ev)?.delete(fn),
    send: (msg) => sent.push(msg),
    emit: (ev, ...args) => {
      for (const fn of handlers.get(ev) || []) fn(...args);
    },
    count: (ev) => handlers.get(ev)?.size ?? 0,
  };
}

/** Float32 values as a DataView at a given byte offset into a larger buffer. */
export function f32View(values, offset = 0) {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  const buf = new ArrayBuffer(offset + bytes.length);
  new Uint8Array(buf, offset).set(bytes);
  return new DataView(buf, offset, bytes.length);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
