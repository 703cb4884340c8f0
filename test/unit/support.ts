/** What several unit tests need: env vars set for one test, a fake API server, a kubeconfig. */
import { afterEach } from 'node:test';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import YAML from 'yaml';

/** Set env vars for one test; they are restored after it. */
const saved = new Map<string, string | undefined>();
export function setEnv(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}
afterEach(() => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  saved.clear();
});

export interface FakeApi {
  server: Server;
  url: string;
}

/**
 * Just enough API server: GET `routes[path]` as JSON, 404 Status otherwise. `intercept` sees
 * every request first and answers it itself by returning true.
 */
export function fakeApiServer(routes: Record<string, unknown> | (() => Record<string, unknown>), intercept?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean): Promise<FakeApi> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (intercept?.(req, res, path)) return;
    const table = typeof routes === 'function' ? routes() : routes;
    const body = req.method === 'GET' ? table[path] : undefined;
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body ?? { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: `${req.url} not found` }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

export const VERSION_ROUTE = {
  '/version': { major: '1', minor: '37', gitVersion: 'v1.37.2', gitCommit: 'fake', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.25.0', compiler: 'gc', platform: 'linux/amd64' },
};

/** A kubeconfig with one cluster, user (token) and context per entry. */
export function kubeconfigYaml(contexts: Array<{ name: string; server: string; token?: string }>, current?: string): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server, 'insecure-skip-tls-verify': true } })),
    users: contexts.map((c) => ({ name: c.name, user: { token: c.token ?? 'fake' } })),
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
    ...(current ? { 'current-context': current } : {}),
  });
}
