import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { METRICS_APISERVICE, installMetricsServer, metricsServerManifests } from '../../src/cluster/providers/kind-metrics.js';
import { METRICS_SERVER_IMAGE } from '../../src/cluster/build/metrics-server-image.js';
import { EnvironmentError } from '../../src/errors.js';
import type { Kube } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/types.js';
import { silentLog } from '../../src/log.js';
import { FakeCluster } from './fake-cluster.js';

type Container = { image: string; imagePullPolicy: string; args: string[]; ports: Array<{ name: string; containerPort: number }>; readinessProbe: { httpGet: { path: string; port: string; scheme: string } } };
type PodSpec = { serviceAccountName: string; nodeSelector: Record<string, string>; tolerations: Array<{ key: string; operator: string; effect: string }>; containers: Container[] };

function byKind(docs: KubeObject[], kind: string, name?: string): Record<string, unknown> {
  const d = docs.find((o) => o.kind === kind && (!name || o.metadata?.name === name));
  assert.ok(d, `${kind} ${name ?? ''} is in the manifests`);
  return d as Record<string, unknown>;
}

describe('metrics-server on kind: the manifests', () => {
  const docs = metricsServerManifests({ image: METRICS_SERVER_IMAGE.ref });

  it('is upstream components.yaml in shape: ServiceAccount, RBAC, Service, Deployment, then the APIService', () => {
    assert.deepEqual(
      docs.map((d) => `${d.kind}/${d.metadata?.name}`),
      [
        'ServiceAccount/metrics-server',
        'ClusterRole/system:aggregated-metrics-reader',
        'ClusterRole/system:metrics-server',
        'RoleBinding/metrics-server-auth-reader',
        'ClusterRoleBinding/metrics-server:system:auth-delegator',
        'ClusterRoleBinding/system:metrics-server',
        'Service/metrics-server',
        'Deployment/metrics-server',
        `APIService/${METRICS_APISERVICE}`,
      ],
    );
    for (const d of docs) assert.equal(d.metadata?.labels?.['app.kubernetes.io/managed-by'], 'kubeproof');
    // Namespaced objects in kube-system; cluster-scoped ones without a namespace.
    for (const d of docs) assert.equal(d.metadata?.namespace, ['ServiceAccount', 'RoleBinding', 'Service', 'Deployment'].includes(d.kind!) ? 'kube-system' : undefined, `${d.kind} ${d.metadata?.name}`);
  });

  it('lets metrics-server read the kubelets and delegate authentication', () => {
    const role = byKind(docs, 'ClusterRole', 'system:metrics-server') as { rules: Array<{ resources: string[]; verbs: string[] }> };
    assert.ok(role.rules.some((r) => r.resources.includes('nodes/metrics') && r.verbs.includes('get')));
    const reader = byKind(docs, 'RoleBinding') as { roleRef: { name: string }; subjects: Array<{ name: string; namespace: string }> };
    assert.equal(reader.roleRef.name, 'extension-apiserver-authentication-reader');
    assert.deepEqual(reader.subjects.map((s) => `${s.namespace}/${s.name}`), ['kube-system/metrics-server']);
    assert.equal((byKind(docs, 'ClusterRoleBinding', 'metrics-server:system:auth-delegator') as { roleRef: { name: string } }).roleRef.name, 'system:auth-delegator');
  });

  it('runs the image built here on the control-plane node, scraping the kubelets on their InternalIP every 10 s', () => {
    const spec = (byKind(docs, 'Deployment') as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
    assert.equal(spec.serviceAccountName, 'metrics-server');
    assert.deepEqual(spec.nodeSelector, { 'node-role.kubernetes.io/control-plane': '' });
    assert.ok(spec.tolerations.some((t) => t.key === 'node-role.kubernetes.io/control-plane' && t.effect === 'NoSchedule'));
    const c = spec.containers[0]!;
    assert.equal(c.image, 'kubeproof.local/metrics-server:v0.9.0');
    assert.equal(c.imagePullPolicy, 'Never', 'no registry: the image is loaded into the node');
    for (const flag of ['--kubelet-insecure-tls', '--kubelet-preferred-address-types=InternalIP', '--metric-resolution=10s', '--kubelet-request-timeout=5s', '--secure-port=10250', '--cert-dir=/tmp']) assert.ok(c.args.includes(flag), flag);
    assert.deepEqual(c.ports.map((p) => [p.name, p.containerPort]), [['https', 10250]]);
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'https', scheme: 'HTTPS' });
    // A starved metrics-server is slow, not dead: the probes wait 5 s, and liveness gives it a minute.
    const live = (c as unknown as { livenessProbe: { timeoutSeconds: number; periodSeconds: number; failureThreshold: number } }).livenessProbe;
    assert.ok(live.timeoutSeconds >= 5 && live.periodSeconds * live.failureThreshold >= 60, JSON.stringify(live));
    // The request timeout stays below the resolution (metrics-server refuses to start otherwise).
    const slow = metricsServerManifests({ image: 'x', resolutionSeconds: 15 });
    const args = (byKind(slow, 'Deployment') as { spec: { template: { spec: PodSpec } } }).spec.template.spec.containers[0]!.args;
    assert.ok(args.includes('--metric-resolution=15s') && args.includes('--kubelet-request-timeout=7s'));
  });

  it('registers v1beta1.metrics.k8s.io on the Service', () => {
    const svc = byKind(docs, 'Service') as { spec: { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string }> } };
    assert.deepEqual(svc.spec.selector, { 'k8s-app': 'metrics-server' });
    assert.deepEqual(svc.spec.ports.map((p) => [p.port, p.targetPort]), [[443, 'https']]);
    const api = byKind(docs, 'APIService') as { spec: Record<string, unknown> };
    assert.deepEqual(api.spec.service, { name: 'metrics-server', namespace: 'kube-system' });
    assert.equal(api.spec.group, 'metrics.k8s.io');
    assert.equal(api.spec.version, 'v1beta1');
  });
});

describe('metrics-server on kind: the install waits on watches', () => {
  function kubeOf(cluster: FakeCluster, applied: string[], onApply: (o: KubeObject) => void = () => undefined): Kube {
    return {
      ...cluster.asKube(),
      apply: async (o: KubeObject) => {
        applied.push(`${o.kind}/${o.metadata?.name}`);
        onApply(o);
        return o;
      },
    } as unknown as Kube;
  }
  const apiService = (status: string, reason: string, message = '') => ({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: METRICS_APISERVICE }, status: { conditions: [{ type: 'Available', status, reason, message }] } });

  it('resolves at the watch event that makes the APIService Available, not before', async () => {
    const cluster = new FakeCluster();
    const applied: string[] = [];
    let availableAt = 0;
    const kube = kubeOf(cluster, applied, (o) => {
      if (o.kind !== 'APIService') return;
      cluster.apply(apiService('False', 'MissingEndpoints', 'endpoints for service/metrics-server in "kube-system" have no addresses'));
      // The aggregation layer calls it Available once the pod is Ready behind the Service.
      setTimeout(() => {
        availableAt = performance.now();
        cluster.apply(apiService('True', 'Passed'));
      }, 300);
    });
    const t0 = performance.now();
    const { ms } = await installMetricsServer(kube, { image: 'kubeproof.local/metrics-server:v0.9.0', log: silentLog, withinMs: 5_000 });
    assert.ok(availableAt > 0 && performance.now() >= availableAt, 'resolved after the APIService turned Available');
    assert.ok(ms >= 250 && ms <= performance.now() - t0 + 1, `measured ${ms} ms`);
    assert.equal(applied.length, 9);
    assert.equal(applied.at(-1), `APIService/${METRICS_APISERVICE}`);
  });

  it('fails with exit 3, naming the APIService condition and the pod\'s state, when it never becomes Available', async () => {
    const cluster = new FakeCluster();
    const kube = kubeOf(cluster, [], (o) => {
      if (o.kind !== 'APIService') return;
      cluster.apply(apiService('False', 'MissingEndpoints', 'endpoints for service/metrics-server in "kube-system" have no addresses'));
      cluster.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'metrics-server-abc', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } },
        spec: { nodeName: 'kubeproof-control-plane', containers: [{ name: 'metrics-server', image: 'x' }] },
        status: { phase: 'Pending', containerStatuses: [{ name: 'metrics-server', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ErrImageNeverPull', message: 'image is not present' } } }] },
      } as KubeObject);
    });
    await assert.rejects(installMetricsServer(kube, { image: 'x', log: silentLog, withinMs: 400 }), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /did not become available .* within 400 ms/);
      assert.match(err.message, /Available=False \(MissingEndpoints/);
      assert.match(err.message, /pod metrics-server-abc on kubeproof-control-plane: Pending, ready false, waiting ErrImageNeverPull/);
      assert.match(err.hint ?? '', /kubectl -n kube-system logs deploy\/metrics-server/);
      return true;
    });
  });
});
