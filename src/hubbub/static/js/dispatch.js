// The one way changes reach the page: stream events go to every store, then the views draw.
//
// A change says what moved, so that a view redraws only that: {list, conversations: Set of
// ids, messages: {all, first, older, reveal, ids, pending, fresh}, presence, typing}. Stores
// report theirs with changed(); while an event is being applied they are gathered, and the
// views draw once, after every store has seen it.

export class Dispatcher {
  constructor() {
    this.stores = [];
    this.views = [];
    this.gathered = null;
    this.applying = false;
    this.drawing = false;
  }

  // Every stream event comes through here, and only here.
  event(event) {
    this.applying = true;
    try {
      for (const store of this.stores) store.apply(event);
    } finally {
      this.applying = false;
    }
    this.draw();
  }

  // A store changed: from an event, a fetch's answer or something the person did.
  changed(change) {
    this.gathered = merge(this.gathered || {}, change);
    if (!this.applying) this.draw();
  }

  draw() {
    // A view that changes a store while drawing (a confirmed edit) is drawn again after.
    if (this.drawing) return;
    this.drawing = true;
    try {
      while (this.gathered) {
        const change = this.gathered;
        this.gathered = null;
        for (const view of this.views) view.render(change);
      }
    } finally {
      this.drawing = false;
    }
  }
}

// Whether a change concerns one conversation's details (its entry, members, permissions).
export function touches(change, conversationId) {
  return Boolean(change.list || change.conversations?.has(conversationId));
}

function merge(into, change) {
  for (const [key, value] of Object.entries(change)) {
    const known = into[key];
    if (known === undefined) into[key] = value instanceof Set ? new Set(value)
      : Array.isArray(value) ? [...value]
        : value && typeof value === "object" ? merge({}, value) : value;
    else if (known instanceof Set) for (const item of value) known.add(item);
    else if (Array.isArray(known)) known.push(...value);
    else if (known && typeof known === "object") merge(known, value);
    else into[key] = known || value;
  }
  return into;
}
