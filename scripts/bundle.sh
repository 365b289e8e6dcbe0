#!/usr/bin/env bash
# Bundles the compiled CLI (dist/src/bin/berth.js and everything it imports, npm packages
# included) into one CommonJS file, dist/src/bin/berth.bundle.cjs, that bin/berth loads with
# V8's code cache (src/bin/launch.ts): one file to read and compile instead of ~200 modules to
# resolve, which halves berth's own start-up time. Native addons stay outside: node-unix-socket
# whole, and better-sqlite3's compiled addon, whose path src/bin/berth.ts gives it (its JS is
# bundled: a dozen modules Node would otherwise resolve and compile without a cache at every
# start). Run after `tsc`; scripts/setup.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/src/bin/berth.bundle.cjs
# A bundle has one file name for all its modules: `import.meta.url` could only mean the bundle's
# own, which is right for src/bin (same directory) and wrong anywhere else.
if grep -rl --include='*.js' 'import\.meta' dist/src | grep -v '^dist/src/bin/' | grep -v '\.test\.js$' >&2; then
  echo "bundle: the modules above use import.meta, which a bundle cannot preserve; pass paths from src/bin" >&2
  exit 1
fi
# The file is the CommonJS wrapper function itself (launch.ts compiles it as it is: one copy of
# the source in memory, not a second one with the wrapper around it), without comments or
# indentation (a quarter less to hold; a stack trace still names the functions). Its text must
# be ASCII: launch.cts reads it as Latin-1 (a third of the time UTF-8 decoding takes, and V8 keeps
# it at one byte a character). esbuild escapes other characters everywhere but in regular
# expression literals, where one would be misread (checked below).
rm -f dist/src/bin/berth.bundle.*
npx esbuild dist/src/bin/berth.js --bundle --platform=node --target=node20 --format=cjs \
  --outfile="$out.tmp" --external:node-unix-socket \
  --supported:dynamic-import=false --minify-whitespace \
  --define:import.meta.url=__berthBundleUrl \
  --banner:js='(function (exports, require, module, __filename, __dirname) {const __berthBundleUrl = require("node:url").pathToFileURL(__filename).href;const __berthLazy = (load) => {let m;return new Proxy({}, {get: (_, k) => (m ??= load())[k]})};' \
  --footer:js='})' \
  --log-level=warning
if LC_ALL=C grep -o -P '.{0,30}[\x80-\xff].{0,10}' "$out.tmp" >&2; then
  echo "bundle: characters beyond ASCII above (write them as \\u escapes in the source)" >&2
  exit 1
fi
# Built-in modules and bundled packages a command does not use are never loaded
# (dist/scripts/lazy-builtins.js: each `import_x = require("node:x")` or `__toESM(require_x())`
# binding that is only read from becomes __berthLazy's proxy).
node dist/scripts/lazy-builtins.js "$out.tmp"
mv "$out.tmp" "$out"

# The web view (`berth serve --ui`): its script bundled for browsers from the TypeScript
# sources, with its page and style sheet, into dist/ui/, which bin/ names to the server.
ui=dist/ui
rm -rf "$ui.tmp" && mkdir -p "$ui.tmp"
npx esbuild src/ui/page/main.ts --bundle --platform=browser --format=iife \
  --target=chrome120,firefox115 --outfile="$ui.tmp/app.js" --log-level=warning
cp src/ui/page/index.html "$ui.tmp/index.html"
cp src/ui/page/app.css "$ui.tmp/app.css"
rm -rf "$ui" && mv "$ui.tmp" "$ui"
