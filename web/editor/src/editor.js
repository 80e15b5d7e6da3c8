// carepath's pathway editor: CodeMirror 6 on top of the page's <textarea name="source">.
//
// Progressive: without this file the textarea is the editor and the form posts it. With it, the textarea
// is hidden and kept equal to the editor's text, so the form posts the same field. The editor adds YAML
// highlighting, line numbers, completion of keys and values from the pathway JSON Schema, the schema's
// (Dutch) descriptions as hover help, the problems of the last check as inline diagnostics, and "regel N"
// in the problem list moves the cursor there. CodeMirror's <style> elements carry the page's CSP nonce.

import { EditorView, basicSetup } from "codemirror";
import { Compartment, EditorState, StateEffect, StateField } from "@codemirror/state";
import { hoverTooltip, keymap } from "@codemirror/view";
import { yaml } from "@codemirror/lang-yaml";
import { linter, lintGutter, forceLinting } from "@codemirror/lint";
import { autocompletion } from "@codemirror/autocomplete";
import { indentWithTab } from "@codemirror/commands";
import { contextAt, keyAt, everyKey } from "./yamlpath.js";
import { schemaAt, propertiesOf, valuesOf, typeOf, isClosed, closest } from "./schema.js";

const hoverSlot = new Compartment(); // the hover help, once the schema is there

const TEXTS = {
  nl: {
    required: "verplicht",
    unknownKey: "Onbekend veld «{key}» op deze plek.",
    didYouMean: " Bedoel je «{near}»?",
    badValue: "«{value}» is hier geen geldige waarde; kies uit: {values}.",
    fromCheck: "Uit de laatste controle: ",
    help: "Ctrl+Spatie stelt velden en waarden voor; houd de muis op een veld voor uitleg. " +
      "Problemen staan rood in de tekst; F8 gaat naar het volgende.",
    editorLabel: "YAML van het zorgpad",
  },
  en: {
    required: "required",
    unknownKey: "Unknown key «{key}» here.",
    didYouMean: " Did you mean «{near}»?",
    badValue: "«{value}» is not a valid value here; choose from: {values}.",
    fromCheck: "From the last check: ",
    help: "Ctrl+Space suggests keys and values; hover over a key for help. Problems are marked red in " +
      "the text; F8 goes to the next one.",
    editorLabel: "YAML of the pathway",
  },
};

// CodeMirror's own words (search panel, lint panel, folding) in Dutch.
const PHRASES_NL = {
  "Find": "Zoeken", "Replace": "Vervangen", "next": "volgende", "previous": "vorige", "all": "alle",
  "match case": "hoofdletters", "regexp": "reguliere expressie", "by word": "hele woorden",
  "replace": "vervangen", "replace all": "alles vervangen", "close": "sluiten", "current match": "huidige treffer",
  "replaced $ matches": "$ treffers vervangen", "replaced match on line $": "treffer op regel $ vervangen",
  "on line": "op regel", "Go to line": "Ga naar regel", "go": "ga", "to": "naar",
  "Diagnostics": "Problemen", "No diagnostics": "Geen problemen", "Completions": "Voorstellen",
  "Control character": "Stuurteken", "Selection deleted": "Selectie verwijderd", "folded code": "ingeklapte tekst",
  "unfold": "uitklappen", "Folded lines": "Regels ingeklapt", "Unfolded lines": "Regels uitgeklapt",
  "Fold line": "Regel inklappen", "Unfold line": "Regel uitklappen",
};

function say(texts, key, values) {
  return texts[key].replace(/\{(\w+)\}/g, (_, name) => String(values && name in values ? values[name] : ""));
}

// --- The problems of the server's check, kept at their place while the text changes -------------------

const setServerProblems = StateEffect.define();
const serverProblems = StateField.define({
  create: () => [],
  update(problems, tr) {
    for (const effect of tr.effects) if (effect.is(setServerProblems)) return effect.value;
    if (!tr.docChanged || !problems.length) return problems;
    return problems.map((p) => ({ ...p, from: tr.changes.mapPos(p.from, 1), to: tr.changes.mapPos(p.to, 1) }))
      .filter((p) => p.from <= p.to);
  },
});

// The problem list of the page (rendered after "Controleren") as diagnostics: line and column (1-based).
function problemsFromPage(doc, texts) {
  const found = [];
  for (const item of document.querySelectorAll("#problems li[data-message]")) {
    const lineNo = parseInt(item.getAttribute("data-line"), 10) || 0;
    const column = parseInt(item.getAttribute("data-column"), 10) || 1;
    const message = texts.fromCheck + item.getAttribute("data-message");
    if (lineNo < 1 || lineNo > doc.lines) {
      found.push({ from: 0, to: Math.min(doc.length, doc.line(1).length), severity: "error", message });
      continue;
    }
    const line = doc.line(lineNo);
    const from = line.from + Math.min(Math.max(column - 1, 0), line.length);
    const word = /^[^\s:,\]}]+/.exec(line.text.slice(from - line.from));
    found.push({ from, to: word ? from + word[0].length : line.to, severity: "error", message });
  }
  return found;
}

// --- Completion and hover help from the schema ---------------------------------------------------------

function completions(schema, texts) {
  return (context) => {
    const place = contextAt(context.state.doc, context.pos);
    if (!place) return null;
    if (place.kind === "key") {
      if (!place.prefix && !context.explicit) return null;
      const node = schemaAt(schema, place.path);
      if (!node) return null;
      const props = propertiesOf(schema, node);
      if (!props.size) return null;
      const options = [];
      for (const [key, info] of props) {
        const type = typeOf(schema, info.schema);
        const block = type === "object" || type === "array";
        options.push({
          // a chosen key is written as "key: " and its values are offered at once (a list or object: "key:")
          label: key, type: block ? "property block" : "property", apply: block ? `${key}:` : `${key}: `,
          detail: [type, info.required ? texts.required : ""].filter(Boolean).join(" · "),
          info: info.description || undefined, boost: info.required ? 1 : 0,
        });
      }
      return { from: place.from, options, validFor: /^[\w$.-]*$/ };
    }
    const node = schemaAt(schema, [...place.path, place.key]);
    if (!node) return null;
    const values = valuesOf(schema, node);
    if (!values.length) return null;
    return {
      from: place.from, validFor: /^[\w$.-]*$/,
      options: values.map((v) => ({ label: v.label, type: "enum", info: v.description || undefined })),
    };
  };
}

function hoverHelp(schema, texts) {
  return hoverTooltip((view, pos) => {
    const found = keyAt(view.state.doc, pos);
    if (!found) return null;
    const parent = schemaAt(schema, found.path);
    if (!parent) return null;
    const info = propertiesOf(schema, parent).get(found.key);
    if (!info || !info.description) return null;
    return {
      pos: found.from, end: found.to, above: true,
      create() {
        const dom = document.createElement("div");
        dom.className = "cp-hover";
        const head = document.createElement("strong");
        head.textContent = found.key;
        const type = typeOf(schema, info.schema);
        const extra = [type, info.required ? texts.required : ""].filter(Boolean).join(" · ");
        dom.append(head, extra ? ` (${extra})` : "", document.createElement("br"), info.description);
        return { dom };
      },
    };
  });
}

// --- The schema check while typing (unknown keys, values outside a list), plus the server's problems ---

function schemaProblems(schema, texts, doc) {
  const found = [];
  for (const entry of everyKey(doc)) {
    const parent = schemaAt(schema, entry.path);
    if (!parent) continue;
    const props = propertiesOf(schema, parent);
    if (!props.size) continue;
    const info = props.get(entry.key);
    if (!info) {
      if (!isClosed(schema, parent)) continue;
      const near = closest(entry.key, [...props.keys()]);
      found.push({ from: entry.from, to: entry.to, severity: "error",
        message: say(texts, "unknownKey", { key: entry.key }) + (near ? say(texts, "didYouMean", { near }) : "") });
      continue;
    }
    const value = entry.value.replace(/\s+#.*$/, "").replace(/^["']|["']$/g, "");
    if (!value || /^[|>[{&*!]/.test(value)) continue;
    const node = schemaAt(schema, [...entry.path, entry.key]);
    const allowed = node ? valuesOf(schema, node).map((v) => v.label) : [];
    if (allowed.length && !allowed.includes(value) && typeOf(schema, node) !== "string") {
      const start = doc.lineAt(entry.from).text.indexOf(entry.value, entry.to - doc.lineAt(entry.from).from);
      const from = start >= 0 ? doc.lineAt(entry.from).from + start : entry.from;
      found.push({ from, to: from + entry.value.length, severity: "error",
        message: say(texts, "badValue", { value, values: allowed.join(", ") }) });
    }
  }
  return found;
}

function checks(schemaRef, texts) {
  return linter((view) => {
    const server = view.state.field(serverProblems);
    const lines = new Set(server.map((p) => view.state.doc.lineAt(p.from).number));
    const own = schemaRef.schema ? schemaProblems(schemaRef.schema, texts, view.state.doc) : [];
    // a problem the check already reported on that line is not said twice
    return [...server, ...own.filter((p) => !lines.has(view.state.doc.lineAt(p.from).number))];
  }, { delay: 400, needsRefresh: (update) => update.transactions.some((tr) => tr.effects.some((e) => e.is(setServerProblems))) });
}

// Text typed over a selection is put in by the editor, not by the browser: Chromium's own editing would
// copy the highlighting's colours into a style="..." attribute, which the CSP (rightly) refuses.
function typedOverSelection(event, view) {
  const types = ["insertText", "insertReplacementText"];
  if (!types.includes(event.inputType) || typeof event.data !== "string" || view.composing) return false;
  if (view.state.selection.ranges.every((r) => r.empty)) return false;
  event.preventDefault();
  view.dispatch(view.state.replaceSelection(event.data), { userEvent: "input.type", scrollIntoView: true });
  return true;
}

// --- Putting it on the page ------------------------------------------------------------------------------

function moveTo(view, lineNo, column) {
  const doc = view.state.doc;
  const line = doc.line(Math.min(Math.max(lineNo, 1), doc.lines));
  const pos = line.from + Math.min(Math.max(column - 1, 0), line.length);
  view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
  view.focus();
}

function enhance(textarea) {
  const texts = document.documentElement.lang === "en" ? TEXTS.en : TEXTS.nl;
  const nonce = textarea.getAttribute("data-style-nonce") || "";
  const schemaRef = { schema: null };
  const completionSource = (context) => (schemaRef.schema ? completions(schemaRef.schema, texts)(context) : null);
  const extensions = [
    basicSetup,
    keymap.of([indentWithTab]),
    yaml(),
    EditorView.cspNonce.of(nonce),
    EditorState.tabSize.of(2),
    serverProblems,
    lintGutter(),
    checks(schemaRef, texts),
    autocompletion({ override: [completionSource], icons: false,
      activateOnCompletion: (completion) => completion.type === "property" }),
    hoverSlot.of([]),
    EditorView.editorAttributes.of({ class: "cp-editor", id: "source-editor" }),
    EditorView.contentAttributes.of({
      "aria-labelledby": "source-label", "aria-describedby": "source-help editor-help", spellcheck: "false",
    }),
    EditorView.domEventHandlers({ beforeinput: typedOverSelection }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) textarea.value = update.state.doc.toString();
    }),
  ];
  if (texts === TEXTS.nl) extensions.push(EditorState.phrases.of(PHRASES_NL));
  const view = new EditorView({ doc: textarea.value, extensions });
  textarea.hidden = true;
  textarea.setAttribute("aria-hidden", "true");
  textarea.insertAdjacentElement("afterend", view.dom);
  const help = document.createElement("p");
  help.className = "help";
  help.id = "editor-help";
  help.textContent = texts.help;
  view.dom.insertAdjacentElement("beforebegin", help);
  const label = document.getElementById("source-label");
  if (label) label.addEventListener("click", (event) => { event.preventDefault(); view.focus(); });
  textarea.form && textarea.form.addEventListener("submit", () => { textarea.value = view.state.doc.toString(); });

  const problems = problemsFromPage(view.state.doc, texts);
  if (problems.length) view.dispatch({ effects: setServerProblems.of(problems) });

  // "regel N, kolom M" in the problem list: the cursor goes there, in this editor
  document.addEventListener("click", (event) => {
    const link = event.target.closest ? event.target.closest(".jump-to-line") : null;
    if (!link) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    moveTo(view, parseInt(link.getAttribute("data-line"), 10) || 1, parseInt(link.getAttribute("data-column"), 10) || 1);
    view.dom.scrollIntoView({ block: "nearest" });
  }, true);

  const url = textarea.getAttribute("data-schema-url");
  if (url && window.fetch) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/schema+json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((schema) => {
        if (!schema) return;
        schemaRef.schema = schema;
        view.dispatch({ effects: hoverSlot.reconfigure(hoverHelp(schema, texts)) });
        forceLinting(view);
      })
      .catch(() => { /* without the schema: no completion or help, the rest works */ });
  }
  return view;
}


function start() {
  const textarea = document.querySelector("textarea[data-pathway-editor]");
  if (textarea) enhance(textarea);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
