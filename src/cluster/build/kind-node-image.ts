/**
 * kind's node image, built offline — no registry, no binary download — from the same pinned
 * version set as the local cluster, the way kind's `build node-image` does it
 * (pkg/build/nodeimage/buildcontext.go), since that command pulls every image but the four kube ones:
 *
 *   1. the root filesystem: Debian (`debootstrap`) with what kind's images/base/Dockerfile
 *      installs — containerd, runc and the CNI plugins from Debian's packages, crictl from source —
 *      and kind's images/base/files (entrypoint, containerd config, kubelet unit) from the
 *      sigs.k8s.io/kind module; kubeadm, kubelet, kubectl in /usr/bin; /kind/version and the
 *      default CNI (flannel, images/kind-node/) and storage (kind's local-path manifest) manifests;
 *   2. the images kubeadm and those manifests name, each built here (kind-images.ts);
 *   3. a container of (1) whose containerd imports (2) unpacked into its `k8s.io` namespace,
 *      committed as the node image and saved (`docker save`) under the cache:
 *
 *   <cacheRoot>/kind/node-image/<KIND_NODE_IMAGE_ID>/{image.tar,manifest.json}
 *
 * so a second run only `docker load`s it (and a third finds it in Docker already).
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, cp, mkdir, readFile, readdir, rename, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../../errors.js';
import { onPath } from '../../host.js';
import { formatDuration, type Log } from '../../log.js';
import { projectRoot } from '../../project.js';
import { abortError, withDirLock } from '../lock.js';
import { ensureBinaries, VERSION_SET_ID } from './binaries.js';
import { ensureLocalImages, PAUSE_IMAGE } from './images.js';
import { buildComponentImages, COMPONENT_IMAGE_RECIPE, debootstrap, docker, dockerImageExists, KIND_IMAGE_REFS, removeImages } from './kind-images.js';
import { ensureKindTools, KIND_TOOLS_SET_ID, kindCacheDir, kindModuleDir } from './kind-tools.js';
import { ETCD_VERSION, KIND_PINNED, KUBERNETES_VERSION } from './versions.js';

/** What kind's images/base/Dockerfile installs, without nfs-common, open-iscsi and fuse-overlayfs (NFS/iSCSI volumes, rootless). */
export const NODE_PACKAGES = [
  'systemd', 'dbus', 'conntrack', 'iptables', 'nftables', 'iproute2', 'ethtool', 'util-linux', 'mount', 'kmod', 'libseccomp2',
  'pigz', 'e2fsprogs', 'bash', 'ca-certificates', 'curl', 'jq', 'procps', 'containerd', 'runc', 'containernetworking-plugins',
] as const;

const NODE_FILES_DIR = join(projectRoot, 'images', 'kind-node');
/** Bump when the steps below change: part of the image id. */
const NODE_RECIPE = 'kind-node/1';

function staticFilesHash(): Promise<string> {
  return readdir(NODE_FILES_DIR).then(async (names) => {
    const h = createHash('sha256');
    for (const n of names.sort()) h.update(`${n}\n`).update(await readFile(join(NODE_FILES_DIR, n)));
    return h.digest('hex');
  });
}

async function imageId(pauseTar: string): Promise<string> {
  const key = {
    NODE_RECIPE,
    COMPONENT_IMAGE_RECIPE,
    KIND_PINNED,
    KUBERNETES_VERSION,
    ETCD_VERSION,
    binaries: VERSION_SET_ID,
    tools: KIND_TOOLS_SET_ID,
    NODE_PACKAGES,
    pause: pauseTar.split('/').pop(),
    files: await staticFilesHash(),
  };
  return `k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kind-${KIND_PINNED.kind}_${createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 10)}`;
}

export interface KindNodeImage {
  /** The name to give `kind create cluster --image`. */
  ref: string;
  /** The `docker save` archive in the cache. */
  archive: string;
  /** Where it came from this time. */
  source: 'docker' | 'archive' | 'built';
  seconds: number;
}

interface NodeImageManifest {
  schema: 1;
  id: string;
  ref: string;
  builtAt: string;
  buildSeconds: number;
  archiveSize: number;
  versions: Record<string, string>;
  images: string[];
  debianPackages: Record<string, string>;
  steps: Record<string, number>;
}

async function readNodeManifest(dir: string, id: string): Promise<NodeImageManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as NodeImageManifest;
    const st = await stat(join(dir, 'image.tar'));
    return m.schema === 1 && m.id === id && st.size === m.archiveSize ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Steps with a line when each starts and ends (and every 30 s in between). */
class Steps {
  readonly seconds: Record<string, number> = {};
  constructor(private readonly log: Log) {}
  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    this.log(`${what}…`);
    const ticker = setInterval(() => this.log(`still ${what}: ${formatDuration(performance.now() - t0)}`), 30_000);
    ticker.unref();
    try {
      const r = await fn();
      this.seconds[what] = Math.round(performance.now() - t0) / 1000;
      this.log(`${what}: done in ${formatDuration(performance.now() - t0)}`);
      return r;
    } finally {
      clearInterval(ticker);
    }
  }
}

/** A kind 0.33 storage manifest with our image names: its Go source concatenates raw strings and two constants. */
export function kindStorageManifest(goSource: string, images: { provisioner: string; helper: string }): string {
  const start = goSource.indexOf('const defaultStorageManifest = ');
  if (start < 0) throw new EnvironmentError('sigs.k8s.io/kind: pkg/build/nodeimage/const_storage.go has no defaultStorageManifest: its layout changed');
  const names: Record<string, string> = { storageProvisionerImage: images.provisioner, storageHelperImage: images.helper };
  const token = /\s*(?:`([^`]*)`|([A-Za-z_]\w*))\s*(\+)?/y;
  token.lastIndex = start + 'const defaultStorageManifest = '.length;
  let out = '';
  for (;;) {
    const m = token.exec(goSource);
    if (!m) throw new EnvironmentError('sigs.k8s.io/kind: could not read defaultStorageManifest in const_storage.go');
    if (m[1] !== undefined) out += m[1];
    else if (m[2] && names[m[2]] !== undefined) out += names[m[2]];
    else throw new EnvironmentError(`sigs.k8s.io/kind: defaultStorageManifest names ${m[2]}, which kubeproof does not know`);
    if (!m[3]) return out;
  }
}

/** The mount points under `dir` (deepest first): what a failed debootstrap may leave mounted in its target. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

async function removeWorkDir(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) await execa('umount', ['-l', m], { reject: false });
  if ((await mountsUnder(dir)).length) throw new EnvironmentError(`${dir} still has mounts under it; not removing it`);
  await rm(dir, { recursive: true, force: true });
}

/** Step 1: the node's root filesystem as kind's base Dockerfile and buildcontext.go make it. */
async function nodeRootfs(rootfs: string, ctx: { kindDir: string; work: string; tools: Record<string, string>; bins: (n: string) => string; pauseRef: string }): Promise<void> {
  // kind's images/base/files, with the modes its Dockerfile's COPY --chmod gives them (the module cache's are read-only).
  const staged = join(ctx.work, 'kind-base-files');
  await cp(join(ctx.kindDir, 'images', 'base', 'files'), staged, { recursive: true });
  await execa('sh', ['-euc', 'cd "$1"; find . -type d -exec chmod 0755 {} +; find . -type f -exec chmod 0644 {} +; chmod 0755 usr/local/bin/* kind/bin/*', 'sh', staged]);
  await cp(staged, rootfs, { recursive: true, force: true });
  // Debian installs to /usr/bin and /usr/lib/cni; kind's units and config look in /usr/local and /opt/cni/bin.
  for (const b of ['containerd', 'ctr', 'containerd-shim-runc-v2']) await symlink(`/usr/bin/${b}`, join(rootfs, 'usr/local/bin', b));
  await mkdir(join(rootfs, 'usr/local/sbin'), { recursive: true });
  await symlink('/usr/sbin/runc', join(rootfs, 'usr/local/sbin/runc'));
  await mkdir(join(rootfs, 'opt/cni/bin'), { recursive: true });
  for (const p of await readdir(join(rootfs, 'usr/lib/cni'))) await symlink(`/usr/lib/cni/${p}`, join(rootfs, 'opt/cni/bin', p));
  await copyFile(ctx.tools.crictl!, join(rootfs, 'usr/local/bin/crictl'));
  await chmod(join(rootfs, 'usr/local/bin/crictl'), 0o755);
  const sh = (script: string) => execa('sh', ['-euc', script, 'sh', rootfs]);
  await sh(
    [
      'cd "$1"',
      'find lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete',
      'rm -f lib/systemd/system/multi-user.target.wants/* etc/systemd/system/*.wants/* lib/systemd/system/local-fs.target.wants/*',
      'rm -f lib/systemd/system/sockets.target.wants/*udev* lib/systemd/system/sockets.target.wants/*initctl* lib/systemd/system/basic.target.wants/*',
      'echo ReadKMsg=no >> etc/systemd/journald.conf',
      '[ -e sbin/init ] || ln -s /usr/lib/systemd/systemd sbin/init',
      'mkdir -p etc/kubernetes/manifests',
      'rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/*',
    ].join('\n'),
  );
  await execa('systemctl', [`--root=${rootfs}`, 'enable', 'kubelet.service', 'containerd.service', 'undo-mount-hacks.service']);
  await execa('systemctl', [`--root=${rootfs}`, 'mask', 'systemd-binfmt.service']);
  // containerd's base spec: what `ctr oci spec` gives, with kind's product-files hook and no rlimits.
  const spec = JSON.parse((await execa('chroot', [rootfs, '/usr/bin/ctr', 'oci', 'spec'])).stdout) as { hooks?: { createContainer?: Array<{ path: string }> }; process?: { rlimits?: unknown } };
  spec.hooks = { ...spec.hooks, createContainer: [...(spec.hooks?.createContainer ?? []), { path: '/kind/bin/mount-product-files.sh' }] };
  delete spec.process?.rlimits;
  await writeFile(join(rootfs, 'etc/containerd/cri-base.json'), `${JSON.stringify(spec, null, 2)}\n`);
  // The sandbox image kubeadm names (kind's config has an older tag of the same image).
  const config = join(rootfs, 'etc/containerd/config.toml');
  const toml = await readFile(config, 'utf8');
  if (!/sandbox_image = "[^"]*"/.test(toml)) throw new EnvironmentError(`kind's containerd config has no sandbox_image line: ${config}`);
  await writeFile(config, toml.replace(/sandbox_image = "[^"]*"/, `sandbox_image = "${ctx.pauseRef}"`));
  for (const b of ['kubeadm', 'kubelet', 'kubectl']) {
    await copyFile(b === 'kubeadm' ? ctx.tools.kubeadm! : ctx.bins(b), join(rootfs, 'usr/bin', b));
    await chmod(join(rootfs, 'usr/bin', b), 0o755);
  }
  await mkdir(join(rootfs, 'kind/manifests'), { recursive: true });
  await writeFile(join(rootfs, 'kind/version'), `v${KUBERNETES_VERSION}`);
  const flannel = (await readFile(join(NODE_FILES_DIR, 'flannel.yaml'), 'utf8')).replaceAll('FLANNEL_IMAGE', KIND_IMAGE_REFS.flannel);
  await writeFile(join(rootfs, 'kind/manifests/default-cni.yaml'), flannel);
  const storageGo = await readFile(join(ctx.kindDir, 'pkg/build/nodeimage/const_storage.go'), 'utf8');
  await writeFile(
    join(rootfs, 'kind/manifests/default-storage.yaml'),
    kindStorageManifest(storageGo, { provisioner: KIND_IMAGE_REFS.localPathProvisioner, helper: KIND_IMAGE_REFS.localPathHelper }),
  );
}

/** Step 3: containerd in a container of the base image imports the images; the container is committed. */
async function importAndCommit(base: string, ref: string, components: string, required: string[], signal?: AbortSignal): Promise<void> {
  const name = `kubeproof-kind-build-${process.pid}`;
  await docker(['rm', '-f', name], { reject: false });
  await docker(['run', '-d', `--name=${name}`, '--entrypoint=sleep', '--security-opt', 'seccomp=unconfined', base, 'infinity'], { cancelSignal: signal });
  try {
    await docker(['exec', name, 'bash', '-c', 'nohup containerd > /dev/null 2>&1 &']);
    const deadline = Date.now() + 30_000;
    // containerd has no readiness signal but its socket answering.
    while ((await docker(['exec', name, 'ctr', 'version'], { reject: false })).exitCode !== 0) {
      if (Date.now() > deadline) throw new EnvironmentError(`containerd in the build container ${name} did not answer within 30 s`);
      if (signal?.aborted) throw abortError(signal);
      await new Promise((r) => setTimeout(r, 200));
    }
    await docker(['exec', '-i', name, 'ctr', '--namespace=k8s.io', 'images', 'import', '--all-platforms', '--no-unpack', '--digests', '-'], { inputFile: components, cancelSignal: signal });
    const have = new Set((await docker(['exec', name, 'ctr', '--namespace=k8s.io', 'images', 'ls', '-q'])).stdout.split('\n').map((l) => l.trim()));
    const missing = required.filter((r) => !have.has(r) && !have.has(`docker.io/${r}`));
    if (missing.length) throw new EnvironmentError(`the node image's containerd lacks ${missing.join(', ')} after the import (it has ${[...have].join(', ')})`);
    await docker(['exec', name, 'pkill', 'containerd']);
    const stopBy = Date.now() + 30_000;
    // The container's PID 1 (sleep) reaps nothing: a containerd that has exited stays a zombie.
    const running = "for p in $(pgrep -x containerd); do grep -q '^State:[[:space:]]*Z' /proc/$p/status || exit 0; done; exit 1";
    while ((await docker(['exec', name, 'sh', '-c', running], { reject: false })).exitCode === 0) {
      if (Date.now() > stopBy) throw new EnvironmentError(`containerd in ${name} did not stop within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await docker(['commit', '--change', 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]', '--change', 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""', name, ref], { cancelSignal: signal });
  } finally {
    await docker(['rm', '-f', '-v', name], { reject: false });
  }
}

async function dpkgVersions(rootfs: string): Promise<Record<string, string>> {
  const r = await execa('chroot', [rootfs, 'dpkg-query', '-W', '-f', '${Package} ${Version}\n', ...NODE_PACKAGES]);
  return Object.fromEntries(r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

async function checkHost(): Promise<void> {
  if (process.getuid?.() !== 0) throw new EnvironmentError('building the kind node image needs root (debootstrap, chroot)');
  for (const [cmd, pkg] of [['debootstrap', 'debootstrap'], ['docker', 'docker.io'], ['chroot', 'coreutils'], ['systemctl', 'systemd']] as const) {
    if (!(await onPath(cmd, { sbin: true }))) throw new EnvironmentError(`building the kind node image needs ${cmd}`, { hint: `apt-get install ${pkg}` });
  }
  const v = await docker(['version', '--format', '{{.Server.Version}}'], { reject: false });
  if (v.exitCode !== 0) throw new EnvironmentError(`no Docker engine answers: ${v.stderr.trim()}`, { hint: 'start one (CI and tests here: scripts/docker-engine.sh start)' });
}

/**
 * The offline node image: in Docker already, else loaded from the cache's archive, else built
 * (cold ~5 min on 2 cores once the Go programs are built; see bench/README.md) and saved there.
 */
export async function ensureKindNodeImage(opts: { log: Log; signal?: AbortSignal }): Promise<KindNodeImage> {
  const t0 = performance.now();
  await checkHost();
  const images = await ensureLocalImages({ log: opts.log });
  const pauseTar = images.get(PAUSE_IMAGE)!;
  const id = await imageId(pauseTar);
  const ref = `kubeproof.local/kind-node:v${KUBERNETES_VERSION}-${id.slice(-10)}`;
  const dir = join(kindCacheDir(), 'node-image', id);
  const archive = join(dir, 'image.tar');
  const done = (source: KindNodeImage['source']): KindNodeImage => ({ ref, archive, source, seconds: Math.round(performance.now() - t0) / 1000 });
  const cached = async (): Promise<KindNodeImage | undefined> => {
    if (!(await readNodeManifest(dir, id))) return undefined;
    if (await dockerImageExists(ref)) return done('docker');
    opts.log(`loading the kind node image ${ref} from ${archive}…`);
    await docker(['load', '-i', archive], { cancelSignal: opts.signal });
    opts.log(`loaded ${ref} in ${formatDuration(performance.now() - t0)}`);
    return done('archive');
  };
  const hit = await cached();
  if (hit) return hit;
  return withDirLock(
    join(kindCacheDir(), `.lock-node-image-${id}`),
    async () => {
      const meanwhile = await cached();
      if (meanwhile) return meanwhile;
      await build(id, ref, dir, pauseTar, opts);
      return done('built');
    },
    { signal: opts.signal, onWait: (o) => opts.log(`waiting for process ${o?.pid ?? '?'} to finish building the kind node image…`) },
  );
}

async function build(id: string, ref: string, dir: string, pauseTar: string, opts: { log: Log; signal?: AbortSignal }): Promise<void> {
  const t0 = performance.now();
  const steps = new Steps(opts.log);
  const work = join(kindCacheDir(), 'work', `node-image-${id}`);
  await removeWorkDir(work);
  await mkdir(work, { recursive: true });
  opts.log(`building the kind node image ${ref} offline (Kubernetes v${KUBERNETES_VERSION}, kind v${KIND_PINNED.kind} files, Debian ${KIND_PINNED.debian}) into ${dir}`);
  const created: string[] = [];
  try {
    const bins = await ensureBinaries({ log: opts.log, signal: opts.signal });
    const tools = await ensureKindTools({ log: opts.log, signal: opts.signal });
    const kindDir = await kindModuleDir(opts.signal);
    const rootfs = join(work, 'rootfs');
    await steps.run(`debootstrap of the node's root filesystem (Debian ${KIND_PINNED.debian}: ${NODE_PACKAGES.length} packages and their dependencies)`, () =>
      debootstrap(rootfs, [...NODE_PACKAGES], work, opts.signal),
    );
    await steps.run("kind's base files, kubeadm, kubelet, kubectl and the manifests into the root filesystem", () =>
      nodeRootfs(rootfs, { kindDir, work, tools, bins: (n) => bins.path(n as 'kubelet'), pauseRef: KIND_IMAGE_REFS.pause }),
    );
    const debianPackages = await dpkgVersions(rootfs);
    const base = `kubeproof.local/kind-base:${id.slice(-10)}`;
    await steps.run(`docker import of the root filesystem as ${base}`, async () => {
      if (!(await dockerImageExists(base))) created.push(base);
      const tmp = `${base}-nostop`;
      created.push(tmp);
      // buffer: false: the root filesystem is far past execa's maxBuffer, which would kill tar mid-stream.
      await execa('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { cancelSignal: opts.signal, buffer: false }).pipe('docker', [
        'import',
        '--change', 'ENV container=docker',
        '--change', 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]',
        '-', tmp,
      ]);
      // `docker import --change` refuses STOPSIGNAL; systemd stops cleanly on SIGRTMIN+3.
      await docker(['build', '-t', base, '-'], { input: `FROM ${tmp}\nSTOPSIGNAL SIGRTMIN+3\n`, env: { DOCKER_BUILDKIT: '0' } });
    });
    await removeWorkDir(rootfs);
    const components = await steps.run('the component images (control plane, etcd, kube-proxy, CoreDNS, flannel, local-path, pause)', () =>
      buildComponentImages({ work, bins: (n) => bins.path(n as 'kube-apiserver'), tools, pauseTar, created, signal: opts.signal }),
    );
    const required = await kubeadmImages(tools.kubeadm, components.refs);
    await steps.run(`importing ${components.refs.length} images into the node's containerd and committing ${ref}`, () =>
      importAndCommit(base, ref, components.archive, required, opts.signal),
    );
    await mkdir(dir, { recursive: true });
    const tmpArchive = join(dir, `.image.tar.${process.pid}`);
    await steps.run(`docker save ${ref} into the cache`, () => docker(['save', '-o', tmpArchive, ref], { cancelSignal: opts.signal }));
    await rename(tmpArchive, join(dir, 'image.tar'));
    const manifest: NodeImageManifest = {
      schema: 1,
      id,
      ref,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round(performance.now() - t0) / 1000,
      archiveSize: (await stat(join(dir, 'image.tar'))).size,
      versions: { kubernetes: KUBERNETES_VERSION, etcd: ETCD_VERSION, binaries: VERSION_SET_ID, tools: KIND_TOOLS_SET_ID, ...KIND_PINNED },
      images: components.refs,
      debianPackages,
      steps: steps.seconds,
    };
    await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    opts.log(`kind node image ${ref} ready (${Math.round(manifest.archiveSize / 1e6)} MB archive) in ${formatDuration(performance.now() - t0)}`);
  } finally {
    await removeImages(created);
    await removeWorkDir(work).catch((err: unknown) => opts.log(`could not remove ${work}: ${err instanceof Error ? err.message : String(err)}`));
    await rmdir(join(kindCacheDir(), 'work')).catch(() => {}); // when nothing else is kept there
  }
}

/** `kubeadm config images list`, with etcd at the pinned tag (the cluster config patches etcd's imageTag); every one must be built. */
async function kubeadmImages(kubeadm: string, built: string[]): Promise<string[]> {
  const out = (await execa(kubeadm, ['config', 'images', 'list', '--kubernetes-version', `v${KUBERNETES_VERSION}`])).stdout.split('\n').filter(Boolean);
  const want = out.map((r) => (r.startsWith('registry.k8s.io/etcd:') ? KIND_IMAGE_REFS.etcd : r));
  const missing = want.filter((r) => !built.includes(r));
  if (missing.length) throw new EnvironmentError(`kubeadm v${KUBERNETES_VERSION} wants ${missing.join(', ')}, which kubeproof does not build (it builds ${built.join(', ')})`);
  return built;
}
