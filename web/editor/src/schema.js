// Walking the pathway JSON Schema (schemas/pathway.schema.json) along a YAML path: which keys an object
// may have, which values a key may take, and the description of each (Dutch, shown as help).

import { ITEM } from "./yamlpath.js";

export function resolve(root, node) {
  let seen = 0;
  while (node && typeof node === "object" && typeof node.$ref === "string" && seen++ < 20) {
    const ref = node.$ref;
    if (!ref.startsWith("#/")) return node;
    let target = root;
    for (const part of ref.slice(2).split("/")) target = target ? target[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
    if (!target) return node;
    // a sibling description of the $ref says more about this place than the target's own
    node = node.description && !target.description ? { ...target, description: node.description } : target;
  }
  return node && typeof node === "object" ? node : null;
}

// The schema itself and the branches whose keys also apply (allOf, anyOf, oneOf, if/then/else).
function branches(root, node) {
  const out = [];
  const walk = (n, depth) => {
    n = resolve(root, n);
    if (!n || depth > 8 || out.includes(n)) return;
    out.push(n);
    for (const key of ["allOf", "anyOf", "oneOf"]) for (const sub of n[key] || []) walk(sub, depth + 1);
    for (const key of ["then", "else"]) if (n[key]) walk(n[key], depth + 1);
  };
  walk(node, 0);
  return out;
}

// key -> {schema, description, required} of the object schema `node`.
export function propertiesOf(root, node) {
  const props = new Map();
  const required = new Set();
  for (const n of branches(root, node)) {
    for (const r of n.required || []) required.add(r);
    for (const [key, sub] of Object.entries(n.properties || {})) {
      const known = props.get(key);
      const description = (sub && sub.description) || (resolve(root, sub) || {}).description || "";
      if (!known) props.set(key, { schema: sub, description });
      else if (!known.description && description) known.description = description;
    }
  }
  for (const [key, value] of props) value.required = required.has(key);
  return props;
}

// Whether `node` names its keys (additionalProperties: false): then another key is a mistake.
export function isClosed(root, node) {
  const all = branches(root, node);
  return all.some((n) => n.additionalProperties === false) && !all.some((n) => n.patternProperties);
}

// The schema at `path` below `root`, or null where the schema does not say (an embedded JSON Schema, ...).
export function schemaAt(root, path) {
  let node = root;
  for (const seg of path) {
    node = childOf(root, node, seg);
    if (!node) return null;
  }
  return node;
}

export function childOf(root, node, seg) {
  for (const n of branches(root, node)) {
    if (seg === ITEM) {
      if (n.items && typeof n.items === "object") return n.items;
      continue;
    }
    if (n.properties && n.properties[seg]) return n.properties[seg];
    for (const [pattern, sub] of Object.entries(n.patternProperties || {})) {
      try { if (new RegExp(pattern).test(seg)) return sub; } catch (e) { /* not a JavaScript pattern */ }
    }
  }
  for (const n of branches(root, node)) {
    if (seg !== ITEM && n.additionalProperties && typeof n.additionalProperties === "object") return n.additionalProperties;
  }
  return null;
}

// The values `node` allows (enum, const, booleans), each {label, description}.
export function valuesOf(root, node) {
  const values = [];
  const seen = new Set();
  const add = (value, description) => {
    const label = typeof value === "string" ? value : JSON.stringify(value);
    if (!seen.has(label)) { seen.add(label); values.push({ label, description: description || "" }); }
  };
  for (const n of branches(root, node)) {
    for (const v of n.enum || []) if (typeof v !== "object" || v === null) add(v, "");
    if ("const" in n && typeof n.const !== "object") add(n.const, n.description || n.title);
    if (n.type === "boolean") { add(true, ""); add(false, ""); }
  }
  return values;
}

export function typeOf(root, node) {
  for (const n of branches(root, node)) {
    if (typeof n.type === "string") return n.type;
    if (n.enum) return "keuze";
  }
  return "";
}

// The closest known key to a mistyped one (edit distance at most a third of its length).
export function closest(word, candidates) {
  let best = null, bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : null;
}

function distance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
