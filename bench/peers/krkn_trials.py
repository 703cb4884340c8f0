"""The bench's krkn-lib peer: the pod-kill experiment the way Krkn's pod scenarios use the
library — start krkn-lib's pod monitor (select_and_monitor_by_namespace_pattern_and_label),
delete the victims with KrknKubernetes.delete_pod, then read the monitor's PodsSnapshot:
the trial passes as Krkn's pod-disruption scenario decides it, when the snapshot's status has
no unrecovered pod and no error (how many replacements it counted as recovered is recorded too).

Usage: python krkn_trials.py KUBECONFIG NAMESPACE TRIALS TIMEOUT_S OUT.json
"""
import json
import logging
import sys
import time

from krkn_lib.k8s import KrknKubernetes
from krkn_lib.k8s.pod_monitor import select_and_monitor_by_namespace_pattern_and_label

logging.basicConfig(level=logging.WARNING)
kubeconfig, ns, trials, timeout, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
cli = KrknKubernetes(kubeconfig_path=kubeconfig)
pattern = f"^{ns}$"
results = []
for i in range(1, trials + 1):
    start = time.time()
    monitor = select_and_monitor_by_namespace_pattern_and_label(
        namespace_pattern=pattern, label_selector="app=web", v1_client=cli.cli, max_timeout=timeout
    )
    victims = cli.select_pods_by_namespace_pattern_and_label(pattern, "app=web", field_selector="status.phase=Running")[:2]
    kill_start = time.time()
    for name, pns in victims:
        cli.delete_pod(name, pns)
    killed = time.time()
    snapshot = monitor.result()
    status = snapshot.get_pods_status()
    end = time.time()
    passed = not status.unrecovered and status.error is None
    results.append({
        "trial": i,
        "start": start * 1000,
        "killStart": kill_start * 1000,
        "killedAt": killed * 1000,
        "end": end * 1000,
        "passed": passed,
        "recovered": [{"pod": p.pod_name, "totalRecoveryS": p.total_recovery_time} for p in status.recovered],
        "unrecovered": [p.pod_name for p in status.unrecovered],
    })
with open(out, "w") as f:
    json.dump(results, f)
