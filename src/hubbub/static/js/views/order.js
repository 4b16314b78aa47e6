// Puts a list's kept nodes in a new order without losing the person's place: focus stays on
// the item it was on, whichever way the list was redrawn.

// moveBefore() moves a node without taking it out of the document, so focus (and a screen
// reader's place) survives the move; insertBefore() takes it out and puts it back, and the
// browser drops focus to the page on the way.
const MOVES_IN_PLACE = typeof Element.prototype.moveBefore === "function";

function place(parent, node, before) {
  if (MOVES_IN_PLACE && node.isConnected && parent.isConnected) {
    try {
      parent.moveBefore(node, before);
      return;
    } catch {
      // A node from elsewhere (another document, say) cannot be moved in place: insert it.
    }
  }
  parent.insertBefore(node, before);
}

// Makes `nodes` the parent's children, in that order, moving only those out of place; any
// other child leaves. Focus inside a node that stays is put back if the browser dropped it.
export function arrange(parent, nodes) {
  const focused = document.activeElement;
  const holder = focused !== parent && parent.contains(focused) ? focused : null;
  let cursor = parent.firstChild; // everything before it is in its place already
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextSibling;
    else place(parent, node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
  if (holder?.isConnected && document.activeElement !== holder) {
    holder.focus({ preventScroll: true });
  }
}
