/**
 * Container images without a registry: the pause (sandbox) image and the test application
 * are built from images/ with `go build` (static, CGO off) and packed as single-layer
 * docker-archive tarballs, cached under <cacheRoot>/images/<name>-<hash>.tar where the hash
 * covers the sources, the Go version and the packing recipe. Identical inputs give identical
 * bytes (fixed mtimes, owners and order), so a tarball is built once per change.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import tar from 'tar-stream';
import { EnvironmentError } from '../../errors.js';
import { formatDuration, type Log } from '../../log.js';
import { projectRoot } from '../../project.js';
import { checkGo } from './binaries.js';
import { cacheRoot } from '../paths.js';

export { PAUSE_IMAGE, TESTAPP_IMAGE, LOCAL_IMAGES, TESTAPP_NEXT_REF, type LocalImage } from './image-refs.js';
import { LOCAL_IMAGES, type LocalImage } from './image-refs.js';

/** Bump when the packing below changes: it is part of the cache key. */
export const PACK_RECIPE = 'docker-archive/1';
const IMAGES_DIR = join(projectRoot, 'images');
/** 2000-01-01T00:00:00Z: a fixed time for every tar entry and the image's `created`. */
const EPOCH = new Date(946684800_000);

async function sourceHash(image: LocalImage, goVersion: string): Promise<string> {
  const h = createHash('sha256').update(`${PACK_RECIPE}\n${goVersion}\n${JSON.stringify(image)}\n`);
  for (const file of ['go.mod', ...(await readdir(join(IMAGES_DIR, image.source))).sort().map((f) => join(image.source, f))]) {
    h.update(`${file}\n`).update(await readFile(join(IMAGES_DIR, file)));
  }
  return h.digest('hex').slice(0, 12);
}

type EntryHeader = Partial<tar.Header> & { name: string };

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function entryBuffer(pack: tar.Pack, header: EntryHeader, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) pack.entry(header, body, cb);
    else pack.entry(header, cb);
  });
}

async function tarOf(entries: Array<{ header: EntryHeader; body?: Buffer }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) await entryBuffer(pack, { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: EPOCH, ...e.header }, e.body);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * A docker-archive (what `docker save` writes, and `ctr images import` reads) of one layer:
 * the binary at `image.entrypoint`, /tmp (1777) and /etc/passwd, /etc/group for root and nobody.
 */
export async function packImage(image: LocalImage, binary: Buffer): Promise<Buffer> {
  const layer = await tarOf([
    { header: { name: 'etc/', type: 'directory', mode: 0o755 } },
    { header: { name: 'etc/group', mode: 0o644 }, body: Buffer.from('root:x:0:\nnobody:x:65534:\n') },
    { header: { name: 'etc/passwd', mode: 0o644 }, body: Buffer.from('root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n') },
    { header: { name: 'tmp/', type: 'directory', mode: 0o1777 } },
    { header: { name: image.entrypoint.replace(/^\//, ''), mode: 0o755 }, body: binary },
  ]);
  const diffId = `sha256:${sha256(layer)}`;
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: EPOCH.toISOString(),
      config: {
        Entrypoint: [image.entrypoint],
        Env: ['PATH=/'],
        WorkingDir: '/',
        ...(image.exposedPorts ? { ExposedPorts: Object.fromEntries(image.exposedPorts.map((p) => [p, {}])) } : {}),
        Labels: { 'io.kubeproof.source': image.origin ?? `images/${image.source}` },
      },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: EPOCH.toISOString(), created_by: `kubeproof: go build ${image.origin ?? `images/${image.source}`}` }],
    }),
  );
  const configName = `${sha256(config)}.json`;
  const layerName = `${diffId.slice('sha256:'.length)}/layer.tar`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [image.ref], Layers: [layerName] }]));
  return tarOf([
    { header: { name: `${diffId.slice('sha256:'.length)}/`, type: 'directory', mode: 0o755 } },
    { header: { name: layerName, mode: 0o644 }, body: layer },
    { header: { name: configName, mode: 0o644 }, body: config },
    { header: { name: 'manifest.json', mode: 0o644 }, body: manifest },
  ]);
}

export function imagesCacheDir(): string {
  return join(cacheRoot(), 'images');
}

/**
 * The tarball of each local image, built (go build + pack) when its sources changed. Writes go
 * to a per-process temporary file renamed into place, so concurrent callers never see half a file.
 */
export async function ensureLocalImages(opts: { log: Log }): Promise<Map<LocalImage, string>> {
  const go = await checkGo();
  const dir = imagesCacheDir();
  await mkdir(dir, { recursive: true });
  const out = new Map<LocalImage, string>();
  for (const image of LOCAL_IMAGES) {
    const path = join(dir, `${image.source}-${await sourceHash(image, go.version)}.tar`);
    if (!(await stat(path).catch(() => undefined))?.isFile()) {
      const t0 = performance.now();
      const binary = join(dir, `.${image.source}-${process.pid}.bin`);
      const r = await execa(go.path, ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', binary, `./${image.source}`], {
        cwd: IMAGES_DIR,
        env: { CGO_ENABLED: '0', GOWORK: 'off' },
        reject: false,
        all: true,
        stdin: 'ignore',
      });
      if (r.exitCode !== 0) {
        await rm(binary, { force: true });
        throw new EnvironmentError(`building the ${image.source} image failed (go build ./${image.source} in ${IMAGES_DIR}):\n${(r.all ?? '').trim()}`);
      }
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, await packImage(image, await readFile(binary)));
      await rm(binary, { force: true });
      await rename(tmp, path);
      opts.log(`built image ${image.ref} (${path}) in ${formatDuration(performance.now() - t0)}`);
    }
    out.set(image, path);
  }
  return out;
}

/** What an image archive names: RepoTags of a docker-archive, or the ref annotations of an OCI archive's index. */
export async function imageNamesInArchive(path: string): Promise<{ format: 'docker-archive' | 'oci'; names: string[] }> {
  const wanted = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (name === 'manifest.json' || name === 'index.json') {
      const chunks: Buffer[] = [];
      stream.on('data', (c) => chunks.push(c as Buffer));
      stream.on('end', () => {
        wanted.set(name, Buffer.concat(chunks));
        next();
      });
    } else {
      stream.on('end', next);
      stream.resume();
    }
  });
  try {
    await pipeline(createReadStream(path), extract);
  } catch (err) {
    throw new EnvironmentError(`${path} is not a readable image tarball: ${(err as Error).message}`, { hint: 'use `docker save`, `podman save` or an OCI archive (uncompressed tar)' });
  }
  const docker = wanted.get('manifest.json');
  if (docker) {
    const m = JSON.parse(docker.toString('utf8')) as Array<{ RepoTags?: string[] | null }>;
    return { format: 'docker-archive', names: m.flatMap((e) => e.RepoTags ?? []) };
  }
  const index = wanted.get('index.json');
  if (index) {
    const i = JSON.parse(index.toString('utf8')) as { manifests?: Array<{ annotations?: Record<string, string> }> };
    const names = (i.manifests ?? []).flatMap((d) => [d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name']].filter((n): n is string => Boolean(n)));
    return { format: 'oci', names };
  }
  throw new EnvironmentError(`${path} has neither manifest.json (docker-archive) nor index.json (OCI): not an image archive`, {
    hint: 'use `docker save`, `podman save` or an OCI archive (uncompressed tar)',
  });
}
