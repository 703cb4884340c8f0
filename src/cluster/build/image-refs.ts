/**
 * The project's own images by name: what pods and faults compare a container's image with. A
 * leaf, so that code reading a pod spec does not load the image builder (execa, tar-stream).
 */
export interface LocalImage {
  /** Directory under images/ with the main package. */
  source: string;
  /** The name pods use (with imagePullPolicy: Never). */
  ref: string;
  /** Path of the binary inside the image. */
  entrypoint: string;
  exposedPorts?: string[];
  /** Where the binary comes from, when not images/<source> (label and history): e.g. a module built by binaries.ts. */
  origin?: string;
}

/** The sandbox image containerd's CRI starts for every pod (its `sandbox_image`). */
export const PAUSE_IMAGE: LocalImage = { source: 'pause', ref: 'kubeproof.local/pause:1', entrypoint: '/pause' };

/** The test application: /healthz, /readyz with a switch, /burn (see images/testapp/main.go). */
export const TESTAPP_IMAGE: LocalImage = { source: 'testapp', ref: 'kubeproof.local/testapp:1', entrypoint: '/testapp', exposedPorts: ['8080/tcp'] };

export const LOCAL_IMAGES: readonly LocalImage[] = [PAUSE_IMAGE, TESTAPP_IMAGE];
/** The test app under a second tag: "a new version" for rollouts where every image must be on the nodes already. */
export const TESTAPP_NEXT_REF = 'kubeproof.local/testapp:2';
