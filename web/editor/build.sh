#!/bin/sh
# Rebuilds web/static/editor.bundle.js and web/static/editor.LICENSES.txt from src/ and the locked
# packages (package-lock.json). Needs Node 20 and npm; carepath's tests and CI do not: the bundle is committed.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npx esbuild src/editor.js --bundle --minify --format=iife --target=es2020 --legal-comments=none \
  --metafile=node_modules/.editor-meta.json --outfile=../static/editor.bundle.js
node licenses.mjs node_modules/.editor-meta.json > ../static/editor.LICENSES.txt
