#!/usr/bin/env node
// The package's entry point: the CLI is compiled TypeScript (npm ci runs `prepare`, which builds dist/).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err?.stack ?? String(err)); process.exitCode = 70; },
);
