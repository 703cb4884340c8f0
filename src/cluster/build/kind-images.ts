/**
 * The images kind's node preloads, each built on this machine with Docker's classic builder
 * (no registry: FROM scratch, or FROM a Debian root filesystem made by debootstrap), under the
 * names kubeadm and the node's manifests use. The upstream names hold builds of the upstream
 * source at the pinned release; what is kubeproof's own (the flannel wrapper, the pause program,
 * the Debian layers) is named kubeproof.local/… or says so in its label.
 */
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type Options } from 'execa';
import { EnvironmentError } from '../../errors.js';
import { projectRoot } from '../../project.js';
import { PAUSE_IMAGE } from './images.js';
import { ETCD_VERSION, KIND_PINNED, KUBERNETES_VERSION } from './versions.js';

/** Bump when the images below change: part of the node image id. */
export const COMPONENT_IMAGE_RECIPE = 'kind-images/1';

export const KIND_IMAGE_REFS = {
  apiserver: `registry.k8s.io/kube-apiserver:v${KUBERNETES_VERSION}`,
  controllerManager: `registry.k8s.io/kube-controller-manager:v${KUBERNETES_VERSION}`,
  scheduler: `registry.k8s.io/kube-scheduler:v${KUBERNETES_VERSION}`,
  proxy: `registry.k8s.io/kube-proxy:v${KUBERNETES_VERSION}`,
  /** kubeadm 1.37 asks for 3.7.0-0: the cluster config sets etcd.local.imageTag to this. */
  etcd: `registry.k8s.io/etcd:${ETCD_VERSION}-0`,
  coredns: `registry.k8s.io/coredns/coredns:v${KIND_PINNED.coredns}`,
  /** kubeproof's pause program (images/pause) under the name kubeadm and the node's containerd use. */
  pause: 'registry.k8s.io/pause:3.10.2',
  flannel: `kubeproof.local/flannel:v${KIND_PINNED.flannel}`,
  localPathProvisioner: `kubeproof.local/local-path-provisioner:v${KIND_PINNED.localPathProvisioner}`,
  /** The local-path helper pod runs `sh -c mkdir/rm`: the Debian layer has them. */
  localPathHelper: `kubeproof.local/local-path-helper:${KIND_PINNED.debian}`,
} as const;

/** The Debian packages of the layer under kube-proxy and flannel (both program iptables). */
const SLIM_PACKAGES = ['iptables', 'conntrack'];

export interface DockerResult {
  exitCode?: number;
  stdout: string;
  stderr: string;
  all: string;
}

/** `docker …` (the classic builder: Debian's 20.10 engine has no buildx); rejects on failure unless `reject: false`. */
export async function docker(args: string[], opts: Pick<Options, 'reject' | 'input' | 'inputFile' | 'cancelSignal' | 'env'> = {}): Promise<DockerResult> {
  const r = await execa('docker', args, {
    stdin: opts.input === undefined && opts.inputFile === undefined ? 'ignore' : undefined,
    ...opts,
    all: true,
    env: { DOCKER_BUILDKIT: '0', ...opts.env },
  });
  return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), all: String(r.all ?? '') };
}

export async function dockerImageExists(ref: string): Promise<boolean> {
  return (await docker(['image', 'inspect', '--format', '{{.Id}}', ref], { reject: false })).exitCode === 0;
}

/** Removes the images this build made (never one that was there before it). */
export async function removeImages(refs: string[]): Promise<void> {
  if (refs.length) await docker(['rmi', ...refs], { reject: false });
}

/** debootstrap (minbase) of Debian into `target`, its packages kept in <kind cache>/debootstrap for the next build. */
export async function debootstrap(target: string, packages: string[], work: string, signal?: AbortSignal): Promise<void> {
  const mirror = process.env.KUBEPROOF_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
  const cacheDir = join(work, '..', '..', 'debootstrap', KIND_PINNED.debian);
  await mkdir(cacheDir, { recursive: true });
  const log = join(work, `debootstrap-${target.split('/').pop()}.log`);
  const r = await execa('debootstrap', ['--variant=minbase', `--include=${packages.join(',')}`, `--cache-dir=${cacheDir}`, KIND_PINNED.debian, target, mirror], {
    all: true,
    reject: false,
    stdin: 'ignore',
    cancelSignal: signal,
  });
  await writeFile(log, r.all ?? '');
  if (r.exitCode !== 0) {
    throw new EnvironmentError(`debootstrap of Debian ${KIND_PINNED.debian} into ${target} failed (exit ${r.exitCode ?? r.signal}):\n${(r.all ?? '').trim().split('\n').slice(-15).join('\n')}`, {
      hint: `the whole output is in ${log}; the mirror is ${mirror} (KUBEPROOF_DEBIAN_MIRROR)`,
    });
  }
  await execa('sh', ['-c', 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*', 'sh', target]);
}

interface ImageSpec {
  ref: string;
  /** scratch, or the Debian layer. */
  from: 'scratch' | 'slim';
  /** file in the context → absolute path in the image */
  files: Array<{ src: string; dest: string }>;
  entrypoint?: string[];
  source: string;
}

function dockerfile(spec: ImageSpec, slimRef: string): string {
  const lines = [`FROM ${spec.from === 'slim' ? slimRef : 'scratch'}`];
  for (const [i, f] of spec.files.entries()) lines.push(`COPY f${i} ${f.dest}`);
  lines.push('ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin');
  if (spec.entrypoint) lines.push(`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`);
  lines.push(`LABEL io.kubeproof.source=${JSON.stringify(spec.source)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Builds every image the node preloads and saves them in one docker-archive (shared layers
 * once). `created` gets every image this made, for the caller to remove.
 */
export async function buildComponentImages(ctx: {
  work: string;
  bins: (name: string) => string;
  tools: Record<string, string>;
  pauseTar: string;
  created: string[];
  signal?: AbortSignal;
}): Promise<{ archive: string; refs: string[] }> {
  const slimRef = `kubeproof.local/debian-slim:${KIND_PINNED.debian}-build-${process.pid}`;
  const slim = join(ctx.work, 'slim');
  await debootstrap(slim, SLIM_PACKAGES, ctx.work, ctx.signal);
  ctx.created.push(slimRef);
  await execa('tar', ['-C', slim, '--numeric-owner', '-c', '.'], { cancelSignal: ctx.signal, buffer: false }).pipe('docker', ['import', '-', slimRef]);
  await execa('rm', ['-rf', slim]);

  const k8s = (name: string) => `k8s.io/kubernetes v${KUBERNETES_VERSION} cmd/${name}, go build`;
  const specs: ImageSpec[] = [
    { ref: KIND_IMAGE_REFS.apiserver, from: 'scratch', files: [{ src: ctx.bins('kube-apiserver'), dest: '/usr/local/bin/kube-apiserver' }], source: k8s('kube-apiserver') },
    {
      ref: KIND_IMAGE_REFS.controllerManager,
      from: 'scratch',
      files: [{ src: ctx.bins('kube-controller-manager'), dest: '/usr/local/bin/kube-controller-manager' }],
      source: k8s('kube-controller-manager'),
    },
    { ref: KIND_IMAGE_REFS.scheduler, from: 'scratch', files: [{ src: ctx.bins('kube-scheduler'), dest: '/usr/local/bin/kube-scheduler' }], source: k8s('kube-scheduler') },
    { ref: KIND_IMAGE_REFS.proxy, from: 'slim', files: [{ src: ctx.bins('kube-proxy'), dest: '/usr/local/bin/kube-proxy' }], source: `${k8s('kube-proxy')}, on Debian ${KIND_PINNED.debian} iptables` },
    { ref: KIND_IMAGE_REFS.etcd, from: 'scratch', files: [{ src: ctx.bins('etcd'), dest: '/usr/local/bin/etcd' }], source: `go.etcd.io/etcd/server/v3 v${ETCD_VERSION}, go build` },
    { ref: KIND_IMAGE_REFS.coredns, from: 'scratch', files: [{ src: ctx.tools.coredns!, dest: '/coredns' }], entrypoint: ['/coredns'], source: `github.com/coredns/coredns v${KIND_PINNED.coredns}, go build` },
    {
      ref: KIND_IMAGE_REFS.flannel,
      from: 'slim',
      files: [
        { src: ctx.tools.flanneld!, dest: '/opt/bin/flanneld' },
        { src: join(projectRoot, 'images', 'kind-node', 'flannel-cni.sh'), dest: '/opt/bin/flannel-cni.sh' },
      ],
      source: `github.com/flannel-io/flannel v${KIND_PINNED.flannel}, go build; images/kind-node/flannel-cni.sh`,
    },
    {
      ref: KIND_IMAGE_REFS.localPathProvisioner,
      from: 'scratch',
      files: [{ src: ctx.tools['local-path-provisioner']!, dest: '/usr/local/bin/local-path-provisioner' }],
      source: `github.com/rancher/local-path-provisioner v${KIND_PINNED.localPathProvisioner}, go build`,
    },
  ];
  for (const spec of specs) {
    const dir = join(ctx.work, 'images', spec.ref.replace(/[/:]/g, '_'));
    await mkdir(dir, { recursive: true });
    for (const [i, f] of spec.files.entries()) {
      await copyFile(f.src, join(dir, `f${i}`));
      await chmod(join(dir, `f${i}`), 0o755);
    }
    await writeFile(join(dir, 'Dockerfile'), dockerfile(spec, slimRef));
    if (!(await dockerImageExists(spec.ref))) ctx.created.push(spec.ref);
    const r = await docker(['build', '-q', '-t', spec.ref, dir], { reject: false, cancelSignal: ctx.signal });
    if (r.exitCode !== 0) throw new EnvironmentError(`docker build of ${spec.ref} failed:\n${r.all.trim()}`);
  }
  for (const ref of [KIND_IMAGE_REFS.localPathHelper, KIND_IMAGE_REFS.pause, PAUSE_IMAGE.ref]) if (!(await dockerImageExists(ref))) ctx.created.push(ref);
  await docker(['tag', slimRef, KIND_IMAGE_REFS.localPathHelper]);
  // The pause archive is kubeproof's (images/pause, packed by images.ts); kubeadm knows it by the upstream name.
  await docker(['load', '-i', ctx.pauseTar]);
  await docker(['tag', PAUSE_IMAGE.ref, KIND_IMAGE_REFS.pause]);
  const refs = [...specs.map((s) => s.ref), KIND_IMAGE_REFS.localPathHelper, KIND_IMAGE_REFS.pause];
  const archive = join(ctx.work, 'components.tar');
  await docker(['save', '-o', archive, ...refs], { cancelSignal: ctx.signal });
  return { archive, refs };
}
