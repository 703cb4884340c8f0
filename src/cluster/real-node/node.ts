/**
 * A real node beside the KWOK nodes: containerd + runc + CNI from the distribution, and the
 * kubelet and kube-proxy built from source with the control plane (binaries.ts). Everything
 * lives under clusterDir(name)/real (real-layout.ts); what the host had before is written
 * down first (real-node.json) so teardown (real-teardown.ts) undoes exactly this node.
 *
 * The kubelet serves on the bridge's gateway address, so only this machine reaches it; it
 * allows every authenticated or anonymous request (AlwaysAllow) — acceptable only because of
 * that. It is labelled kubeproof.io/node-type=real and never kwok.x-k8s.io/node, so kwok
 * leaves it alone.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import pRetry from 'p-retry';
import YAML from 'yaml';
import { EnvironmentError } from '../../errors.js';
import { formatDuration, type Log } from '../../log.js';
import type { Kube } from '../../kube/client.js';
import { Informer, now } from '../../kube/informer.js';
import type { Node } from '../../kube/types.js';
import { until } from '../../wait/until.js';
import type { BinarySet } from '../build/binaries.js';
import { importImage, startContainerd } from './containerd.js';
import { startDaemon } from './daemon.js';
import { startKubelet } from './kubelet.js';
import { ensureLocalImages } from '../build/images.js';
import { NODE_TYPE_LABEL, REAL_NODE_TAINT, nodeReadyCondition } from '../nodes.js';
import type { ClusterTimings } from '../providers/provider.js';
import { assertRealNodeHost, cgroupHierarchies, cgroupVersion, cniBinDir } from './host.js';
import { HOST_PATHS, POD_CGROUP, realNodeLayout, writeRecord, type RealNodeLayout, type RealNodeRecord } from './layout.js';
import { bridgeName, choosePodSubnet, createBridge, gatewayOf, iptablesChains, readSysctls, writeCniConfig } from './network.js';

export const REAL_NODE_TYPE = 'real';
/** Ports a kubelet and kube-proxy hold on the host: hence one real node per machine. */
const FIXED_PORTS = { kubelet: 10250, kubeletHealthz: 10248, kubeProxyHealthz: 10256, kubeProxyMetrics: 10249 };

export function realNodeName(i: number): string {
  return `real-${i}`;
}

/** Listening TCP ports on this host (IPv4 and IPv6), from /proc. */
async function listeningPorts(): Promise<Set<number>> {
  const ports = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(f, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') ports.add(parseInt(cols[1]!.split(':').pop()!, 16));
    }
  }
  return ports;
}

/** Refuse, before touching anything, when another kubelet or kube-proxy runs on this machine. */
async function assertNoOtherNode(): Promise<Record<string, string[]>> {
  const listening = await listeningPorts();
  const taken = Object.entries(FIXED_PORTS).filter(([, p]) => listening.has(p));
  if (taken.length) {
    throw new EnvironmentError(`ports ${taken.map(([n, p]) => `${p} (${n})`).join(', ')} are in use on this machine: another kubelet or kube-proxy runs here`, {
      hint: 'one real node per machine: `kubeproof cluster list` and `cluster down` the cluster that has one',
    });
  }
  const chains = await iptablesChains();
  if (chains['ipv4/nat']?.includes('KUBE-SERVICES')) {
    throw new EnvironmentError('iptables already has a KUBE-SERVICES chain: another kube-proxy manages this machine\'s Services', {
      hint: 'stop it (or `kube-proxy --cleanup` if it is gone) before starting a real node',
    });
  }
  return chains;
}

/** Where POD_CGROUP lives: under each cgroup v1 hierarchy, or once under the v2 root (from the mount table). */
export async function podCgroupDirs(): Promise<string[]> {
  return (await cgroupHierarchies()).map((h) => join(h, POD_CGROUP));
}

async function writeNodeIdentity(l: RealNodeLayout, pki: string, nodeName: string, server: string): Promise<void> {
  await mkdir(l.kubelet.pki, { recursive: true });
  const key = join(l.kubelet.pki, 'node.key');
  const csr = join(l.kubelet.pki, 'node.csr');
  const crt = join(l.kubelet.pki, 'node.crt');
  const ossl = async (args: string[]) => {
    const r = await execa('openssl', args, { reject: false, all: true });
    if (r.exitCode !== 0) throw new EnvironmentError(`openssl ${args[0]} failed: ${(r.all ?? '').trim()}`);
  };
  await ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await ossl(['req', '-new', '-key', key, '-subj', `/O=system:nodes/CN=system:node:${nodeName}`, '-out', csr]);
  await ossl(['x509', '-req', '-in', csr, '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'), '-CAcreateserial', '-CAserial', join(l.kubelet.pki, 'ca.srl'), '-days', '365', '-out', crt]);
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority': join(pki, 'ca.crt') } }],
    users: [{ name: `system:node:${nodeName}`, user: { 'client-certificate': crt, 'client-key': key } }],
    contexts: [{ name: 'node', context: { cluster: 'local', user: `system:node:${nodeName}` } }],
    'current-context': 'node',
  };
  await writeFile(l.kubelet.kubeconfig, YAML.stringify(kubeconfig));
}

export function kubeletConfiguration(l: RealNodeLayout, r: RealNodeRecord, pki: string, timings: ClusterTimings): object {
  const every = `${timings.nodeHeartbeatSeconds}s`;
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // cgroup v1 hosts: kubelet 1.35+ refuses them unless told otherwise. Ignored on v2.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${l.containerd.socket}`,
    address: r.nodeIP,
    port: FIXED_PORTS.kubelet,
    healthzBindAddress: '127.0.0.1',
    healthzPort: FIXED_PORTS.kubeletHealthz,
    readOnlyPort: 0,
    // Reachable only on this machine (the bridge's address): see the file comment.
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false }, x509: { clientCAFile: join(pki, 'ca.crt') } },
    authorization: { mode: 'AlwaysAllow' },
    resolvConf: l.resolvConf,
    localStorageCapacityIsolation: false,
    protectKernelDefaults: false,
    makeIPTablesUtilChains: false,
    // Never evict or garbage-collect images: the images cannot be pulled again.
    evictionHard: { 'memory.available': '0%', 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    podLogsDir: l.kubelet.podLogs,
    serializeImagePulls: false,
    // Heartbeats as often as the KWOK nodes', so node-failure timings hold for real nodes too.
    syncFrequency: '5s',
    nodeStatusUpdateFrequency: every,
    nodeStatusReportFrequency: every,
    nodeLeaseDurationSeconds: timings.nodeHeartbeatSeconds * 4,
    registerNode: true,
    registerWithTaints: [REAL_NODE_TAINT],
    rotateCertificates: false,
    serverTLSBootstrap: false,
  };
}

export function kubeProxyConfiguration(r: RealNodeRecord, kubeconfig: string): object {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig },
    hostnameOverride: r.nodeName,
    healthzBindAddress: `127.0.0.1:${FIXED_PORTS.kubeProxyHealthz}`,
    metricsBindAddress: `127.0.0.1:${FIXED_PORTS.kubeProxyMetrics}`,
    clusterCIDR: r.podSubnet,
    detectLocalMode: 'ClusterCIDR',
    // Leave the host's conntrack settings and route_localnet alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { localhostNodePorts: false, masqueradeAll: false, syncPeriod: '30s', minSyncPeriod: '0s' },
    nodePortAddresses: [`${r.podSubnet}`],
  };
}

async function stubResolvConf(path: string): Promise<void> {
  // No cluster DNS. Pods get the host's non-loopback nameservers (a loopback one means nothing inside a pod).
  const host = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const servers = host.split('\n').filter((l) => /^nameserver\s+/.test(l) && !/\s(127\.|::1)/.test(l));
  await writeFile(path, `# kubeproof real node: no cluster DNS\n${servers.join('\n')}\n`);
}

export interface RealNodeStart {
  cluster: string;
  nodeName: string;
  /** The cluster's admin kubeconfig and its pki dir (ca.crt, ca.key) as kwokctl wrote them. */
  adminKubeconfig: string;
  pki: string;
  apiServerUrl: string;
  bins: BinarySet;
  timings: ClusterTimings;
  kube: Kube;
  log: Log;
}

/**
 * Start containerd, the kubelet and kube-proxy for one real node and resolve when the node is
 * Ready and kube-proxy has synced. On failure the caller tears the node down (real-teardown.ts).
 */
export async function startRealNode(o: RealNodeStart): Promise<{ timings: Record<string, number> }> {
  const t0 = now();
  const marks: Record<string, number> = {};
  const mark = (k: string) => (marks[k] = Math.round(now() - t0));
  await assertRealNodeHost();
  const cni = (await cniBinDir())!;
  const l = realNodeLayout(o.cluster);
  if (existsSync(l.dir)) throw new EnvironmentError(`${l.dir} exists already: a real node of cluster "${o.cluster}" was not cleaned up`, { hint: `kubeproof cluster down --name ${o.cluster}` });
  const chainsBefore = await assertNoOtherNode();
  const images = await ensureLocalImages({ log: o.log });
  mark('images');

  // Write down what the host has before changing anything.
  await mkdir(l.dir, { recursive: true });
  const podSubnet = await choosePodSubnet(o.cluster);
  const record: RealNodeRecord = {
    cluster: o.cluster,
    nodeName: o.nodeName,
    nodeIP: gatewayOf(podSubnet),
    bridge: bridgeName(o.cluster),
    podSubnet,
    cniNetwork: `kubeproof-${o.cluster}`,
    createdHostPaths: HOST_PATHS.filter((p) => !existsSync(p)),
    createdCgroups: (await podCgroupDirs()).filter((p) => !existsSync(p)),
    sysctls: await readSysctls(),
    chainsBefore,
  };
  await writeRecord(l, record);

  await createBridge(record.bridge, podSubnet);
  await mkdir(l.cni.confDir, { recursive: true });
  await writeCniConfig(l, record.cniNetwork, record.bridge, podSubnet);
  await startContainerd(l, cni);
  mark('containerd');
  for (const tarball of images.values()) await importImage(l, tarball);
  mark('images imported');

  await stubResolvConf(l.resolvConf);
  await writeNodeIdentity(l, o.pki, o.nodeName, o.apiServerUrl);
  await writeFile(l.kubelet.config, YAML.stringify(kubeletConfiguration(l, record, o.pki, o.timings)));
  await writeFile(l.kubeProxy.config, YAML.stringify(kubeProxyConfiguration(record, o.adminKubeconfig)));
  for (const d of [l.kubelet.root, l.kubelet.certDir, l.kubelet.podLogs]) await mkdir(d, { recursive: true });

  const nodes = new Informer<Node>(o.kube, 'Node', { fieldSelector: `metadata.name=${o.nodeName}` });
  await nodes.start();
  try {
    const started = now();
    await startKubelet(l, {
      command: o.bins.path('kubelet'),
      args: [
        `--config=${l.kubelet.config}`,
        `--kubeconfig=${l.kubelet.kubeconfig}`,
        `--root-dir=${l.kubelet.root}`,
        `--cert-dir=${l.kubelet.certDir}`,
        `--hostname-override=${o.nodeName}`,
        `--node-ip=${record.nodeIP}`,
        `--node-labels=${NODE_TYPE_LABEL}=${REAL_NODE_TYPE}`,
        '--v=1',
      ],
    });
    await startDaemon({
      name: 'kube-proxy',
      command: o.bins.path('kube-proxy'),
      args: [`--config=${l.kubeProxy.config}`, '--v=1'],
      pidDir: l.pids,
      logDir: l.logs,
    });
    const ready = await until(
      {
        description: `real node ${o.nodeName} Ready`,
        sources: [nodes],
        evaluate: () => {
          const n = nodes.get(o.nodeName);
          const c = n?.status?.conditions?.find((x) => x.type === 'Ready');
          return { ok: nodeReadyCondition(n) === 'True', observed: n ? `Ready=${c?.status} ${c?.reason ?? ''} ${c?.message ?? ''}`.trim() : 'not registered yet' };
        },
      },
      { within: 60_000, since: started, explain: async () => `kubelet log: ${join(l.logs, 'kubelet.log')}\n${await tail(join(l.logs, 'kubelet.log'), 15)}` },
    );
    mark('node Ready');
    o.log(`real node ${o.nodeName} Ready ${formatDuration(ready.elapsedMs)} after the kubelet started (cgroup ${await cgroupVersion()}, pods on ${podSubnet} via ${record.bridge})`);
  } finally {
    await nodes.stop();
  }
  await kubeProxySynced(l);
  mark('kube-proxy synced');
  return { timings: marks };
}

async function tail(path: string, n: number): Promise<string> {
  return (await readFile(path, 'utf8').catch(() => '')).trim().split('\n').slice(-n).join('\n');
}

/**
 * kube-proxy's /healthz answers 200 once it has programmed the Services it was told about.
 * It has no watchable signal, so this asks it (with backoff, up to 30 s) — the only HTTP poll here.
 */
async function kubeProxySynced(l: RealNodeLayout): Promise<void> {
  const url = `http://127.0.0.1:${FIXED_PORTS.kubeProxyHealthz}/healthz`;
  await pRetry(
    async () => {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.status !== 200) throw new Error(`kube-proxy /healthz: HTTP ${r.status}`);
    },
    { retries: 40, minTimeout: 50, maxTimeout: 1000, maxRetryTime: 30_000 },
  ).catch(async (err: Error) => {
    throw new EnvironmentError(`kube-proxy did not become healthy within 30 s: ${err.message}\n${await tail(join(l.logs, 'kube-proxy.log'), 15)}`, {
      hint: `log: ${join(l.logs, 'kube-proxy.log')}`,
    });
  });
}
