// A counting proxy on loopback: plain HTTP in (a kubeconfig without credentials points at it),
// HTTPS with the cluster's client certificate out. Every request kubeproof makes passes through
// it and is counted by verb (WATCH/LIST/GET/CREATE/PATCH/UPDATE/DELETE) and resource, so the
// scale part can say how many API requests kubeproof itself made, apart from the control plane's.
import http from 'node:http';
import https from 'node:https';
import { writeFileSync } from 'node:fs';
import { tlsOptions } from './watcher.mjs';

function classify(method, url) {
  const u = new URL(url, 'http://x');
  const parts = u.pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/group/version/...
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : parts;
  let resource = '';
  let named = false;
  let sub = '';
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === 'namespaces' && rest.length > i + 2) {
      i++;
      continue;
    }
    resource = rest[i];
    named = rest.length > i + 1;
    sub = rest[i + 2] ?? '';
    break;
  }
  const watch = u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1';
  const verb = { GET: watch ? 'WATCH' : named ? 'GET' : 'LIST', POST: 'CREATE', PATCH: 'PATCH', PUT: 'UPDATE', DELETE: 'DELETE' }[method] ?? method;
  return `${verb} ${resource}${sub ? `/${sub}` : ''}`;
}

export async function countingProxy(kubeconfig, contextName, outKubeconfig) {
  const { server, opts } = await tlsOptions(kubeconfig);
  const target = new URL(server);
  const agent = new https.Agent({ ...opts, keepAlive: true, maxSockets: Infinity });
  const counts = {};
  const srv = http.createServer((req, res) => {
    const key = classify(req.method, req.url);
    counts[key] = (counts[key] ?? 0) + 1;
    const up = https.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, agent }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      // A watch's headers come at once and its body only when something changes: Node keeps
      // written headers until the first body byte, so without this a watch of a kind with no
      // objects never opened (kubeproof's informers wait for their watch) — the hung run.
      res.flushHeaders();
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  writeFileSync(
    outKubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${contextName}`,
      '  cluster:',
      `    server: http://127.0.0.1:${port}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${contextName}`,
      '  user: {}',
      'contexts:',
      `- name: ${contextName}`,
      '  context:',
      `    cluster: ${contextName}`,
      `    user: ${contextName}`,
      `current-context: ${contextName}`,
      '',
    ].join('\n'),
  );
  return {
    counts,
    reset() {
      for (const k of Object.keys(counts)) delete counts[k];
    },
    close: () => new Promise((r) => (srv.closeAllConnections(), srv.close(() => (agent.destroy(), r())))),
  };
}
