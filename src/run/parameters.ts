/** What the runner hands every scenario (cucumber world parameters: plain JSON, so parallel workers get it too). */
import type { ClusterCapabilities, ClusterKind, ClusterTimings, NodeCommandLines } from '../cluster/providers/provider.js';

export interface RunParameters {
  runId: string;
  projectDir: string;
  cluster: {
    kind: ClusterKind;
    name: string;
    kubeconfigPath: string;
    context: string;
    apiServerUrl: string;
    serverVersion: string;
    timings: ClusterTimings;
    capabilities: ClusterCapabilities;
    nodes: string[];
    nodeCommands?: NodeCommandLines;
  };
  /** kube-system namespace UID the run is pinned to (context guard). */
  kubeSystemUid?: string;
  /** Plan mode: faults print what they would do; nothing is injected, checks are skipped. */
  plan?: boolean;
}
