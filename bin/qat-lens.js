#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI lives in the esbuild bundle (npm run build).
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write(`qat-lens: ${bundle} is missing; run "npm run build" first\n`);
  process.exit(2);
}
require(bundle);
