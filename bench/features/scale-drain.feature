@bench
Feature: bench scale — drain 50 of 1,000 KWOK nodes under PodDisruptionBudgets
  The cluster holds up to 10,000 pods (20 namespaces, one Deployment × 500 each, under a PodDisruptionBudget
  maxUnavailable 5 %) placed by the bench before the run; this scenario adds its own
  Deployment and budget and drains zone z01 (50 nodes) at once.

  Scenario: drain zone z01 at once; everything comes back elsewhere
    Given a cluster with at least 500 Ready nodes
    And deployment "web" from "bench/manifests/scale-web.yaml" is ready
    When the nodes in zone "z01" are drained at once
    Then within 120 s 100 pods of deployment "web" are Ready
    And within 5 s no pods of deployment "web" are Ready in zone "z01"
    And at no moment were more than 10 pods of deployment "web" unavailable
