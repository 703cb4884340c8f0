@drain
Feature: Draining nodes under a PodDisruptionBudget
  A drain evicts through the Eviction API, so every PodDisruptionBudget is honoured: an
  eviction the budget forbids is refused (429) and retried until the budget allows it. The
  node is cordoned first and uncordoned when the scenario ends.

  Background:
    Given a cluster with at least 3 Ready nodes in zones a, b and c

  Scenario: A drain waits on the budget, one replacement at a time, and completes
    Given deployment "api" from "scenarios/drain/api.yaml" is ready
    Then within 30 s 3 pods of deployment "api" are Ready on node "node-1"
    When node "node-1" is drained
    Then the drain of node "node-1" completed within 60 s
    And the drain of node "node-1" was blocked by PodDisruptionBudget "api" for at least 1 s
    And the drain of node "node-1" was blocked by PodDisruptionBudget "api" for at most 60 s
    And at no moment were more than 1 pod of deployment "api" unavailable
    And PodDisruptionBudget "api" never allowed a negative number of disruptions
    And within 30 s 3 pods of deployment "api" are Ready
    And within 5 s no pods of deployment "api" are Ready on node "node-1"

  Scenario: A budget that allows no disruption blocks the drain entirely
    Given deployment "ledger" from "scenarios/drain/ledger.yaml" is ready
    When node "node-1" is drained, giving up after 15 s
    Then the drain of node "node-1" gave up, blocked by PodDisruptionBudget "ledger"
    And within 5 s 3 pods of deployment "ledger" are Ready on node "node-1"
    And at no moment were more than 0 pods of deployment "ledger" unavailable

  Scenario: Draining a zone one node after another keeps the service up
    Given deployment "web" from "scenarios/web" is ready
    And a KWOK node "a-2" with:
      | zone | a |
    And availability of service "web" is measured
    When the nodes in zone "a" are drained one after another
    Then within 30 s 3 pods of deployment "web" are Ready
    And within 5 s no pods of deployment "web" are Ready in zone "a"
    And at no moment were more than 1 pod of deployment "web" unavailable
    And service "web" had at least 2 ready endpoints at every moment
    And availability of service "web" stayed ≥ 99.5 %

  Scenario: Draining a zone's nodes at once
    Given deployment "web" from "scenarios/web" is ready
    And availability of service "web" is measured
    When the nodes in zone "b" are drained at once
    Then within 30 s 3 pods of deployment "web" are Ready
    And at no moment were more than 1 pod of deployment "web" unavailable
    And availability of service "web" stayed ≥ 99.5 %

  Scenario: A pod without a controller is evicted only when the drain says so
    Given this manifest is applied:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: bare
      spec:
        nodeSelector:
          kubernetes.io/hostname: node-2
        containers:
        - name: main
          image: kubeproof.local/testapp:1
          imagePullPolicy: IfNotPresent
      """
    When node "node-2" is drained, including pods without a controller
    Then the drain of node "node-2" completed within 30 s
