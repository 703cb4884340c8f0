@myth
Feature: Myth vs fact — a PodDisruptionBudget does not stop a NoExecute taint
  Myth: "a PodDisruptionBudget guarantees N pods through any disruption".
  Fact: only evictions through the Eviction API honour it. A NoExecute taint evicts through
  the taint-eviction controller, which ignores budgets; so does a node failure.

  Scenario: A NoExecute taint takes every pod of the node, budget or not
    Given a cluster with at least 3 Ready nodes in zones a, b and c
    And deployment "api" from "scenarios/drain/api.yaml" is ready
    And within 30 s 3 pods of deployment "api" are Ready on node "node-1"
    When node "node-1" is tainted "maintenance:NoExecute"
    Then within 10 s no pods of deployment "api" are Ready on node "node-1"
    And at one moment at least 2 pods of deployment "api" were unavailable
    And within 30 s 3 pods of deployment "api" are Ready
