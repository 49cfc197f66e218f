#!/usr/bin/env node
'use strict';
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through `prepare`).
require('../dist/src/cli.js').main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(`meshdns: ${err && err.message ? err.message : err}`); process.exitCode = 1; },
);
