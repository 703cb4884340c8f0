/**
 * metrics-server as a container image, for clusters whose nodes run real containers (kind):
 * the binary binaries.ts built from source (sigs.k8s.io/metrics-server at the pinned release)
 * packed by images.ts into a one-layer docker-archive, no Docker and no registry involved.
 * Cached under <cacheRoot>/images/metrics-server-<key>.tar, the key covering the release, the
 * binary's sha256 (from the binary set's manifest) and the packing recipe, so it is packed once
 * per binary.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../../errors.js';
import { formatDuration, type Log } from '../../log.js';
import { ensureBinaries, findBinaries, readManifest } from './binaries.js';
import { PACK_RECIPE, imagesCacheDir, packImage, type LocalImage } from './images.js';
import { METRICS_SERVER_VERSION } from './versions.js';

export const METRICS_SERVER_IMAGE: LocalImage = {
  source: 'metrics-server',
  ref: `kubeproof.local/metrics-server:v${METRICS_SERVER_VERSION}`,
  entrypoint: '/metrics-server',
  exposedPorts: ['10250/tcp'],
  origin: `sigs.k8s.io/metrics-server v${METRICS_SERVER_VERSION} cmd/metrics-server`,
};

/** The image tarball (docker-archive), packed from the cached binary set (built first if there is none). */
export async function ensureMetricsServerImage(opts: { log: Log; signal?: AbortSignal }): Promise<{ ref: string; tarball: string; packed: boolean }> {
  const bins = (await findBinaries()) ?? (await ensureBinaries({ log: opts.log, signal: opts.signal }));
  const binary = bins.path('metrics-server');
  const sum = (await readManifest(bins.dir))?.binaries['metrics-server']?.sha256;
  if (!sum) throw new EnvironmentError(`the binary set in ${bins.dir} has no sha256 for metrics-server in its manifest.json`, { hint: 'kubeproof doctor verifies the cache' });
  const key = createHash('sha256').update(`${PACK_RECIPE}\n${sum}\n${JSON.stringify(METRICS_SERVER_IMAGE)}\n`).digest('hex').slice(0, 12);
  const dir = imagesCacheDir();
  const tarball = join(dir, `metrics-server-v${METRICS_SERVER_VERSION}-${key}.tar`);
  if ((await stat(tarball).catch(() => undefined))?.isFile()) return { ref: METRICS_SERVER_IMAGE.ref, tarball, packed: false };
  const t0 = performance.now();
  await mkdir(dir, { recursive: true });
  const tmp = `${tarball}.${process.pid}.tmp`;
  await writeFile(tmp, await packImage(METRICS_SERVER_IMAGE, await readFile(binary)));
  await rename(tmp, tarball);
  opts.log(`packed image ${METRICS_SERVER_IMAGE.ref} from ${binary} (${tarball}) in ${formatDuration(performance.now() - t0)}`);
  return { ref: METRICS_SERVER_IMAGE.ref, tarball, packed: true };
}
