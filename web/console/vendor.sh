#!/bin/sh
# Re-creates vendor/htm-preact.js from the exact versions in package-lock.json.
# The console has no build step: the browser loads this one file as an ES module.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
mkdir -p vendor
cp node_modules/htm/preact/standalone.module.js vendor/htm-preact.js
echo "vendor/htm-preact.js <- htm $(node -p "require('./node_modules/htm/package.json').version")"
