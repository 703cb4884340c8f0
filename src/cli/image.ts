/**
 * `kubeproof image load <tarball> [--name N] [--cluster C]`: put a user's image (docker-archive
 * from `docker save`/`podman save`, or an OCI archive) into a local cluster's real node, where
 * pods use it with imagePullPolicy: Never — there is no registry. Prints the loaded names on stdout.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BadInputError, ExitCode } from '../errors.js';
import type { Log } from '../log.js';
import { imageNamesInArchive } from '../cluster/build/images.js';
import { listLocalClusters, localClusterInfo } from '../cluster/providers/local.js';
import { localParts } from '../cluster/providers/local-parts.js';
import { isRefusal } from '../cluster/providers/provider.js';
import { hasRealNode } from '../cluster/real-node/teardown.js';

async function clusterWithRealNode(name: string | undefined): Promise<string> {
  if (name) {
    if (!hasRealNode(name)) throw new BadInputError(`local cluster "${name}" has no real node`, { hint: 'kubeproof cluster up --name N --real-nodes 1' });
    return name;
  }
  const withReal = (await listLocalClusters()).filter((c) => hasRealNode(c.name));
  if (withReal.length !== 1) {
    throw new BadInputError(withReal.length ? `several clusters have real nodes (${withReal.map((c) => c.name).join(', ')}): say which with --cluster` : 'no local cluster has a real node', {
      hint: 'kubeproof cluster up --real-nodes 1',
    });
  }
  return withReal[0]!.name;
}

export async function imageLoad(opts: { tarball: string; name?: string; cluster?: string; log: Log }): Promise<number> {
  const tarball = resolve(opts.tarball);
  if (!existsSync(tarball)) throw new BadInputError(`no such file: ${tarball}`);
  const cluster = await clusterWithRealNode(opts.cluster);
  const inArchive = await imageNamesInArchive(tarball);
  if (inArchive.names.length === 0 && !opts.name) {
    throw new BadInputError(`${tarball} names no image (${inArchive.format}): give it one with --name`, { hint: `kubeproof image load ${opts.tarball} --name my-app:dev` });
  }
  const info = await localClusterInfo(cluster);
  const loader = localParts({ name: cluster, realNodes: info?.realNodes ?? [] }).imageLoader;
  if (isRefusal(loader)) throw new BadInputError(loader.refused);
  const names = await loader.load(tarball, opts.name);
  opts.log(`loaded into cluster "${cluster}": ${names.join(', ')} (use imagePullPolicy: Never)`);
  for (const n of names) process.stdout.write(`${n}\n`);
  return ExitCode.ok;
}
