// Prints the licence of every package bundled into editor.bundle.js (read from esbuild's metafile).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const meta = JSON.parse(readFileSync(process.argv[2], "utf8"));
const packages = new Set();
for (const input of Object.keys(meta.inputs)) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packages.add(match[1]);
}
const out = ["Licences of the packages bundled into web/static/editor.bundle.js (built by web/editor/build.sh).",
  "carepath's own source of the editor (web/editor/src/) is EUPL-1.2.", ""];
for (const name of [...packages].sort()) {
  const dir = join("node_modules", name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  out.push("=".repeat(78), `${pkg.name} ${pkg.version} (${pkg.license})`, pkg.homepage || "", "-".repeat(78));
  out.push(file ? readFileSync(join(dir, file), "utf8").trim() : `License: ${pkg.license} (no licence file in the package)`, "");
}
process.stdout.write(out.join("\n") + "\n");
