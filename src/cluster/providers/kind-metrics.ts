/**
 * metrics-server on a kind cluster, so the HPA controller reads real CPU: the kubelets' own
 * /metrics/resource, scraped by metrics-server built from source (build/metrics-server-image.ts)
 * and served as metrics.k8s.io through the API server's aggregation layer.
 *
 * What upstream's components.yaml installs (ServiceAccount, RBAC, Service, Deployment,
 * APIService), with what a kind cluster needs: the kubelets' serving certificates are
 * self-signed (--kubelet-insecure-tls) and their node names resolve nowhere from a pod
 * (--kubelet-preferred-address-types=InternalIP); the pod runs on the control-plane node, so
 * faults on the workers (docker stop, pause, a drain) never take the HPA's metrics away; the
 * metric resolution is the local cluster's (10 s, metrics-server's minimum), so a pod has a CPU
 * figure about two scrapes after it starts and the fast HPA timings have something to act on.
 */
import type { Kube } from '../../kube/client.js';
import { Informer } from '../../kube/informer.js';
import type { KubeObject, Manifest, Pod } from '../../kube/types.js';
import { EnvironmentError } from '../../errors.js';
import { formatDuration, type Log } from '../../log.js';
import { until, ConditionTimeout } from '../../wait/until.js';

export const METRICS_SERVER_NAMESPACE = 'kube-system';
export const METRICS_SERVER_NAME = 'metrics-server';
export const METRICS_APISERVICE = 'v1beta1.metrics.k8s.io';
/** How often metrics-server scrapes every kubelet (its minimum; upstream's manifest says 15 s). */
export const METRIC_RESOLUTION_SECONDS = 10;
/** From the first manifest applied to the APIService Available (measured here: see the cluster-up log). */
const AVAILABLE_WITHIN_MS = 180_000;
const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';
const LABELS = { 'k8s-app': METRICS_SERVER_NAME, 'app.kubernetes.io/managed-by': 'kubeproof' };

/** The objects to apply, in order (the APIService last: it points at the Service the Deployment's pod serves). */
export function metricsServerManifests(o: { image: string; resolutionSeconds?: number }): Manifest[] {
  const ns = METRICS_SERVER_NAMESPACE;
  const name = METRICS_SERVER_NAME;
  const resolution = o.resolutionSeconds ?? METRIC_RESOLUTION_SECONDS;
  const meta = (n: string, namespaced = true) => ({ name: n, ...(namespaced ? { namespace: ns } : {}), labels: { ...LABELS } });
  const sa = { kind: 'ServiceAccount', name, namespace: ns };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { ...meta('system:aggregated-metrics-reader', false), labels: { ...LABELS, 'rbac.authorization.k8s.io/aggregate-to-admin': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('system:metrics-server', false),
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta('metrics-server-auth-reader'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects: [sa],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('metrics-server:system:auth-delegator', false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [sa],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('system:metrics-server', false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' },
      subjects: [sa],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name),
      spec: { selector: { 'k8s-app': name }, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name),
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'k8s-app': name } },
        strategy: { rollingUpdate: { maxUnavailable: 0 } },
        template: {
          metadata: { labels: { ...LABELS } },
          spec: {
            serviceAccountName: name,
            priorityClassName: 'system-cluster-critical',
            // On the control plane: faults on the workers leave the HPA its metrics.
            nodeSelector: { [CONTROL_PLANE_ROLE]: '' },
            tolerations: [{ key: CONTROL_PLANE_ROLE, operator: 'Exists', effect: 'NoSchedule' }],
            containers: [
              {
                name,
                image: o.image,
                // Loaded into the node by kind (no registry).
                imagePullPolicy: 'Never',
                args: [
                  '--cert-dir=/tmp',
                  '--secure-port=10250',
                  '--kubelet-insecure-tls',
                  '--kubelet-preferred-address-types=InternalIP',
                  '--kubelet-use-node-status-port',
                  `--metric-resolution=${resolution}s`,
                  // Below the resolution, or metrics-server refuses to start.
                  `--kubelet-request-timeout=${Math.max(1, Math.floor(resolution / 2))}s`,
                ],
                ports: [{ name: 'https', containerPort: 10250, protocol: 'TCP' }],
                // Generous timeouts: on a starved host (load ~100 on 2 cores here) the kubelet's 1 s default failed the
                // probes, the liveness probe restarted metrics-server 3 times in 10 min and the HPA lost its metrics.
                readinessProbe: { httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 2, timeoutSeconds: 5, failureThreshold: 5 },
                livenessProbe: { httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' }, initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
                resources: { requests: { cpu: '50m', memory: '100Mi' } },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000 },
                volumeMounts: [{ name: 'tmp-dir', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp-dir', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: meta(METRICS_APISERVICE, false),
      spec: {
        service: { name, namespace: ns },
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        // The kubelets' and metrics-server's certificates are self-signed (upstream's manifest says the same).
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  ];
}

type APIService = KubeObject & { status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } };

function available(s: APIService | undefined): { ok: boolean; words: string } {
  const c = s?.status?.conditions?.find((x) => x.type === 'Available');
  return { ok: c?.status === 'True', words: c ? `Available=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}` : 'no Available condition yet' };
}

function podWords(p: Pod): string {
  const cs = p.status?.containerStatuses?.[0];
  const waiting = cs?.state?.waiting;
  const term = cs?.lastState?.terminated;
  return `pod ${p.metadata?.name} on ${p.spec?.nodeName ?? 'no node'}: ${p.status?.phase ?? '?'}, ready ${cs?.ready ?? false}${waiting ? `, waiting ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}` : ''}${cs?.restartCount ? `, ${cs.restartCount} restart(s)${term ? `, last exit ${term.exitCode} ${term.reason ?? ''}` : ''}` : ''}`;
}

/**
 * Applies the manifests (server-side apply through the project's kube layer) and waits, on
 * the APIService and pod watches, until the aggregation layer calls the APIService Available:
 * metrics-server's /readyz passed (it has scraped the kubelets) and the API server reaches it.
 * The image must be on the control-plane node already. Resolves with the time it took.
 */
export async function installMetricsServer(kube: Kube, o: { image: string; log: Log; withinMs?: number }): Promise<{ ms: number }> {
  const t0 = performance.now();
  for (const obj of metricsServerManifests({ image: o.image })) {
    await kube.apply(obj).catch((err: unknown) => {
      throw new EnvironmentError(`installing metrics-server: applying ${obj.kind} ${obj.metadata?.name} failed: ${(err as Error).message}`, { cause: err });
    });
  }
  const apiServices = new Informer<APIService>(kube, 'APIService', { fieldSelector: `metadata.name=${METRICS_APISERVICE}` });
  const pods = new Informer<Pod>(kube, 'Pod', { namespace: METRICS_SERVER_NAMESPACE, labelSelector: `k8s-app=${METRICS_SERVER_NAME}` });
  try {
    await until(
      {
        description: `APIService ${METRICS_APISERVICE} Available (metrics-server serving metrics.k8s.io)`,
        sources: [apiServices, pods],
        evaluate: () => {
          const a = available(apiServices.get(METRICS_APISERVICE));
          return { ok: a.ok, observed: [a.words, ...pods.list().map(podWords)].join('; ') };
        },
      },
      { within: o.withinMs ?? AVAILABLE_WITHIN_MS },
    );
  } catch (err) {
    if (err instanceof ConditionTimeout) {
      throw new EnvironmentError(`metrics-server did not become available on the kind cluster within ${formatDuration(err.withinMs)}: ${err.lastObserved}`, {
        hint: `kubectl -n ${METRICS_SERVER_NAMESPACE} logs deploy/${METRICS_SERVER_NAME}; kubectl get apiservice ${METRICS_APISERVICE} -o yaml`,
      });
    }
    throw err;
  } finally {
    await Promise.all([apiServices.stop(), pods.stop()]);
  }
  return { ms: performance.now() - t0 };
}

/** Whether metrics.k8s.io is served on this cluster now (a cluster kubeproof attaches to). */
export async function metricsServed(kube: Kube): Promise<boolean> {
  return available(await kube.find<APIService>('APIService', METRICS_APISERVICE).catch(() => undefined)).ok;
}
