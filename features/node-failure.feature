@node-failure
Feature: A node that fails
  Pods are never moved off a failed node: the node-lifecycle controller marks the node,
  taints it NoExecute, the taint evicts the pods after their default toleration, and the
  ReplicaSet creates replacements elsewhere. The timings in force are in the report.

  Background:
    Given a cluster with at least 3 Ready nodes in zones a, b and c
    And deployment "web" from "scenarios/web" is ready
    And within 30 s every zone runs at least 1 Ready pod of deployment "web"

  Scenario: A node whose heartbeats stop is marked Unknown and its pods are replaced
    When node "node-2" stops sending heartbeats
    Then the pods of node "node-2" are not evicted before the toleration has passed
    And within 30 s node "node-2" is Unknown
    And within 60 s the pods of node "node-2" are replaced on other nodes

  Scenario: A node whose kubelet reports NotReady has its pods replaced
    When node "node-3" reports NotReady
    Then within 30 s node "node-3" is NotReady
    And within 60 s the pods of node "node-3" are replaced on other nodes
    And within 30 s 3 pods of deployment "web" are Ready
