@bench
Feature: bench peers — a kill the Deployment cannot recover from (the right verdict is a failure)
  Every node is tainted NoSchedule after the pods are up, so the replacements stay Pending. Right
  after the kill the Deployment's status still says 3 ready: a check that reads it too early passes.

  Scenario: kill 2 of 3 pods while no replacement can be scheduled
    Given a cluster with at least 3 Ready nodes
    And deployment "web" from "bench/manifests/web-instant.yaml" is ready
    When the nodes labelled "type=kwok" are tainted "bench=full:NoSchedule"
    And 2 pods of deployment "web" are killed
    Then within 10 s 3 pods of deployment "web" are Ready
