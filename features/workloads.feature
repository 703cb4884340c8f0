@workloads
Feature: What Kubernetes promises for every workload kind
  The same vocabulary proves claims about StatefulSets, DaemonSets, Jobs, ReplicaSets,
  quotas and scheduling, not only about Deployments.

  Background:
    Given a cluster with at least 3 Ready nodes in zones a, b and c

  Scenario: A StatefulSet spreads over zones and replaces a killed member
    Given statefulset "db" from "scenarios/workloads/statefulset.yaml" is ready
    Then within 30 s at least 1 pod of statefulset "db" is Ready in zone "a"
    When 1 pod of statefulset "db" is killed
    Then within 30 s statefulset "db" has 3 ready replicas

  Scenario: A DaemonSet runs a pod on every node, including one added later
    Given daemonset "agent" from "scenarios/workloads/daemonset.yaml" is ready
    Then within 30 s 1 pod of daemonset "agent" is Ready on node "node-1"
    Given a KWOK node "big-1" with:
      | zone  | a        |
      | cpu   | 8        |
      | label | disk=ssd |
    Then within 30 s 1 pod of daemonset "agent" is Ready on node "big-1"

  Scenario: A Job runs to completion
    Given the manifest "scenarios/workloads/job.yaml" is applied
    Then within 60 s job "migrate" completes

  Scenario: A bare ReplicaSet replaces a killed pod
    Given replicaset "cache" from "scenarios/workloads/replicaset.yaml" is ready
    When the pods matching "app=cache" are killed
    Then within 30 s 2 pods of replicaset "cache" are Ready

  Scenario: A pod larger than any node stays Pending
    Given the manifest "scenarios/workloads/huge.yaml" is applied
    Then within 30 s 1 pod of deployment "huge" is Pending because "Insufficient cpu"
    And within 30 s an event "FailedScheduling" is recorded for "huge"

  Scenario: A ResourceQuota refuses what goes over it, at admission
    Given the manifest "scenarios/workloads/quota.yaml" is applied
    And this manifest is applied:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: first
      spec:
        containers:
        - name: main
          image: kubeproof.local/testapp:1
          imagePullPolicy: IfNotPresent
      """
    Then the API server rejects this manifest with status 403 and a message containing "exceeded quota":
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: second
      spec:
        containers:
        - name: main
          image: kubeproof.local/testapp:1
          imagePullPolicy: IfNotPresent
      """
    Given the manifests in "scenarios/web" are applied
    Then within 30 s an event "FailedCreate" mentioning "exceeded quota" is recorded

  Scenario: Scaling, relabelling, patching and rolling out a Deployment
    Given a cluster with at least 3 Ready nodes
    And deployment "web" from "scenarios/web" is ready
    And the manifest "scenarios/web/service.yaml" is applied
    When deployment "web" is scaled to 5 replicas
    Then within 30 s deployment "web" has 5 ready replicas
    When deployment "web" is labelled "tier=frontend"
    And deployment "web" is patched with:
      """
      spec:
        template:
          metadata:
            annotations:
              kubeproof.io/restarted-by: workloads.feature
      """
    Then within 60 s the rollout of deployment "web" completes
    When the image of deployment "web" is set to "kubeproof.local/testapp:2"
    Then within 60 s the rollout of deployment "web" completes
    And deployment "web" now has at least 2 ready replicas
    And for 5 s at least 2 pods of deployment "web" stay Ready

  Scenario: The vocabulary runs on whatever cluster the run was given
    Given the current kubeconfig context
    And a cluster
    And a local cluster with 3 nodes
    And deployment "web" from "scenarios/web" is ready
    When deployment "web" is scaled to 5 replicas
    Then within 30 s 5 pods of deployment "web" are Ready
    And within 30 s deployment "web" has 5 ready replicas
