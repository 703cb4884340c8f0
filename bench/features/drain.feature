@bench
Feature: bench peers — drain a node under a PodDisruptionBudget
  Scenario: drain node-1 holding the 3 pods of "api" (minAvailable 2, Ready 2 s after start)
    Given a cluster with at least 3 Ready nodes
    And deployment "api" from "scenarios/drain/api.yaml" is ready
    Then within 30 s 3 pods of deployment "api" are Ready on node "node-1"
    When node "node-1" is drained
    Then the drain of node "node-1" completed within 60 s
    And at no moment were more than 1 pod of deployment "api" unavailable
