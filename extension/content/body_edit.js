// Applies client_py's plan to a compose body with DOM calls only: Gmail enforces
// Trusted Types, so no innerHTML / outerHTML / insertAdjacentHTML / DOMParser here.
// The plan (offscreen/engage_bridge.py `plan`) names tree positions and <a> indices;
// this file resolves them, edits, and compares the result's serialisation with the
// body client_py produced. Every edit can be undone, so a body that does not come out
// exactly as planned is put back as it was.
//
// A classic script: defines `globalThis.EngageBodyEdit`.
(() => {
  "use strict";
  if (globalThis.EngageBodyEdit) return;

  const TEXT = 3;
  const CDATA = 4;

  /**
   * A node's children as its serialisation shows them: adjacent text nodes are one
   * child (the first of them stands for the run), empty text nodes are none.
   */
  function logicalChildren(node) {
    const out = [];
    let inText = false;
    for (const child of node.childNodes) {
      const isText = child.nodeType === TEXT || child.nodeType === CDATA;
      if (isText) {
        if (!child.data) continue;
        if (!inText) out.push(child);
        inText = true;
      } else {
        out.push(child);
        inText = false;
      }
    }
    return out;
  }

  /** `[i, j, ..., k]` -> {parent, ref}: insert into `parent` before `ref` (null: at the end). */
  function resolve(root, position) {
    if (!Array.isArray(position) || position.length === 0) return null;
    let parent = root;
    for (const index of position.slice(0, -1)) {
      parent = logicalChildren(parent)[index];
      if (!parent || parent.nodeType !== 1) return null;
    }
    const children = logicalChildren(parent);
    const index = position[position.length - 1];
    if (index < 0 || index > children.length) return null;
    return { parent, ref: children[index] || null, child: children[index] || null };
  }

  /** Elements from [{tag, attrs: [[name, value]], children}] in this document. */
  function build(specs, doc) {
    return specs.map((spec) => {
      const el = doc.createElement(spec.tag);
      for (const [name, value] of spec.attrs) el.setAttribute(name, value);
      for (const child of build(spec.children || [], doc)) el.appendChild(child);
      return el;
    });
  }

  function trimmed(href) {
    return (href || "").replace(/^[ \t\n\r\f]+|[ \t\n\r\f]+$/g, "");
  }

  class PlanMismatch extends Error {}

  /**
   * Edit `body` as `plan` says. Returns {exact, changed, undo}: `exact` when the body now
   * serialises to client_py's `plan.expected`. Throws (after undoing) when the plan
   * does not fit the body (it changed since it was read).
   */
  function apply(body, plan) {
    const undo = [];
    const rollback = () => {
      while (undo.length) undo.pop()();
    };
    try {
      for (const position of plan.remove || []) {
        const at = resolve(body, position);
        if (!at || !at.child) throw new PlanMismatch("an old tracking image is not where client_py saw it");
        const { parent, child } = at;
        const next = child.nextSibling;
        child.remove();
        undo.push(() => parent.insertBefore(child, next && next.parentNode === parent ? next : null));
      }
      const anchors = body.querySelectorAll("a");
      for (const edit of plan.links || []) {
        const anchor = anchors[edit.index];
        const old = anchor ? anchor.getAttribute("href") : null;
        if (!anchor || trimmed(old) !== edit.url) throw new PlanMismatch(`link ${edit.index} changed`);
        anchor.setAttribute("href", edit.href);
        undo.push(() => anchor.setAttribute("href", old));
      }
      if (!plan.keep) { // keep: the draft already holds this pixel where it belongs
        const at = resolve(body, plan.insert);
        if (!at) throw new PlanMismatch("no place for the tracking image");
        for (const node of build(plan.snippet, body.ownerDocument)) {
          at.parent.insertBefore(node, at.ref);
          undo.push(() => node.remove());
        }
      }
    } catch (error) {
      rollback();
      throw error;
    }
    // changed: whether anything was edited (nothing to announce to Gmail's editor if not).
    return { exact: body.innerHTML === plan.expected, changed: undo.length > 0, undo: rollback };
  }

  globalThis.EngageBodyEdit = Object.freeze({ logicalChildren, resolve, build, apply, PlanMismatch });
})();
