// Where in a pathway's YAML a position is: the chain of keys and list items above it, read from the
// indentation of block-style YAML (how pathway files are written). No parse tree is needed, so a half-typed
// line still has a place. `ITEM` stands for "an item of the list above".

export const ITEM = "[]";

const BLOCK_SCALAR = /^[|>][0-9+-]*\s*(#.*)?$/;

// The anchors of one line: each "- " and the key, with their columns, e.g.
// "  - type: rent" -> [{col: 2, dash}, {col: 4, key: "type", value: "rent"}].
export function anchorsOf(text) {
  const anchors = [];
  let i = 0;
  while (i < text.length && text[i] === " ") i++;
  if (i >= text.length || text[i] === "#") return anchors;
  while (text[i] === "-" && (i + 1 === text.length || text[i + 1] === " ")) {
    anchors.push({ col: i, dash: true });
    i++;
    while (text[i] === " ") i++;
  }
  const rest = text.slice(i);
  const key = /^([A-Za-z_$][\w$.-]*|"[^"]*"|'[^']*')\s*:(?=\s|$)/.exec(rest);
  if (key) {
    const name = key[1].replace(/^["']|["']$/g, "");
    const value = rest.slice(key[0].length).trim();
    anchors.push({ col: i, key: name, value, end: i + key[0].length });
  } else if (i < text.length) {
    anchors.push({ col: i, scalar: true });
  }
  return anchors;
}

// Whether `frame` (on the stack) is the parent of `anchor`.
function parentOf(frame, anchor) {
  if (frame.col < anchor.col) return true;
  // "key:" followed by "- item" at the same column: the list belongs to the key
  return anchor.dash && frame.key !== undefined && frame.col === anchor.col && frame.opens;
}

// Feeds one line's anchors to the stack; calls `visit(anchor, stack)` for each key with its parents.
function feed(stack, anchors, visit) {
  for (const anchor of anchors) {
    while (stack.length && !parentOf(stack[stack.length - 1], anchor)) stack.pop();
    const top = stack[stack.length - 1];
    if (top && top.text) return false; // inside a scalar (a block of text): not YAML structure
    if (anchor.scalar) return true;
    if (visit && anchor.key !== undefined) visit(anchor, stack);
    if (anchor.dash) {
      stack.push({ col: anchor.col, seg: ITEM });
    } else {
      const opens = anchor.value === "" || anchor.value.startsWith("#");
      const text = !opens && (BLOCK_SCALAR.test(anchor.value) || !/^[[{]/.test(anchor.value));
      stack.push({ col: anchor.col, seg: anchor.key, key: anchor.key, opens, text });
    }
  }
  return true;
}

// The stack after the lines before line `lineNo` (1-based) of `doc` (a CodeMirror Text).
function stackBefore(doc, lineNo) {
  const stack = [];
  for (let n = 1; n < lineNo; n++) feed(stack, anchorsOf(doc.line(n).text));
  return stack;
}

// What the cursor at `pos` is on: {kind: "key", path, from, prefix} while typing a key,
// {kind: "value", path, key, from, prefix} after "key: ", or null (in text, a comment, flow style).
export function contextAt(doc, pos) {
  const line = doc.lineAt(pos);
  const before = line.text.slice(0, pos - line.from);
  if (/#/.test(before) && !/^[^#]*["']/.test(before)) return null;
  const stack = stackBefore(doc, line.number);
  const typedKey = /^(\s*(?:-\s+)*)([\w$.-]*)$/.exec(before);
  if (typedKey) {
    const anchors = anchorsOf(typedKey[1] + "x").filter((a) => a.dash);
    anchors.push({ col: typedKey[1].length, key: typedKey[2], value: "" });
    let path = null;
    const ok = feed(stack, anchors, (anchor, parents) => {
      if (anchor.col === typedKey[1].length) path = parents.map((f) => f.seg);
    });
    if (!ok || path === null) return null;
    return { kind: "key", path, from: pos - typedKey[2].length, prefix: typedKey[2] };
  }
  const typedValue = /^(\s*(?:-\s+)*)([A-Za-z_$][\w$.-]*)\s*:\s+([\w$.-]*)$/.exec(before);
  if (typedValue) {
    let path = null;
    const anchors = anchorsOf(typedValue[1] + typedValue[2] + ":");
    const ok = feed(stack, anchors, (anchor, parents) => {
      if (anchor.key === typedValue[2]) path = parents.map((f) => f.seg);
    });
    if (!ok || path === null) return null;
    return { kind: "value", path, key: typedValue[2], from: pos - typedValue[3].length, prefix: typedValue[3] };
  }
  return null;
}

// The key under `pos`, with its path: {path, key, from, to}, or null.
export function keyAt(doc, pos) {
  const line = doc.lineAt(pos);
  const anchors = anchorsOf(line.text);
  const key = anchors.find((a) => a.key !== undefined);
  if (!key) return null;
  const from = line.from + key.col, to = line.from + key.col + key.key.length + (line.text[key.col] === '"' ? 2 : 0);
  if (pos < from || pos > to) return null;
  const stack = stackBefore(doc, line.number);
  let path = null;
  const ok = feed(stack, anchors, (anchor, parents) => {
    if (anchor === key) path = parents.map((f) => f.seg);
  });
  if (!ok || path === null) return null;
  return { path, key: key.key, from, to };
}

// Every key of the document with its path (for the schema check while typing): one pass, O(lines).
export function everyKey(doc) {
  const found = [];
  const stack = [];
  for (let n = 1; n <= doc.lines; n++) {
    const line = doc.line(n);
    feed(stack, anchorsOf(line.text), (anchor, parents) => {
      found.push({ path: parents.map((f) => f.seg), key: anchor.key, value: anchor.value,
        from: line.from + anchor.col, to: line.from + anchor.col + anchor.key.length, line: n });
    });
  }
  return found;
}
