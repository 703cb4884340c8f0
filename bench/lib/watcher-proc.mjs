#!/usr/bin/env node
// The independent watcher as a process of its own (started at a raised priority by the bench, so
// the tools' and the harness's CPU use delay its clock as little as possible): prints "ready"
// once listed, then one JSON line per pod (or namespace) event, stamped on arrival.
// Usage: node watcher-proc.mjs KUBECONFIG LABEL_SELECTOR [BASE_PATH]
import { PodWatcher } from './watcher.mjs';

const [kubeconfig, labelSelector, base] = process.argv.slice(2);
const w = new PodWatcher(kubeconfig, { labelSelector, base: base || undefined });
const apply = w.apply.bind(w);
w.apply = (type, p, at) => {
  apply(type, p, at);
  process.stdout.write(`${JSON.stringify(w.log.at(-1))}\n`);
  w.log.length = 0;
};
await w.start();
process.stdout.write('"ready"\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
