(await import('./dist/src/kube/library.js')).withoutKubernetesClient('x');
(await import('./dist/src/cli/offline.js')).nativeMatchIndices();
const YAML=(await import('yaml')).default; const orig=YAML.parseAllDocuments; let n=0,bytes=0,ms=0;
YAML.parseAllDocuments=function(t,o){n++;bytes+=t.length;const a=performance.now();const r=orig.call(this,t,o);ms+=performance.now()-a;return r};
const { check } = await import('./dist/src/cli/check.js');
const t=performance.now();
await check({ paths: ['features/'], json: false, cwd: process.cwd(), err: () => {} });
console.log({n,bytes,ms:Math.round(ms), total: Math.round(performance.now()-t)});
