@hpa
Feature: Load drives a HorizontalPodAutoscaler up and, once it goes, back down
  The load is CPU offered to a workload and spread over its Ready pods, like traffic through a
  Service: as the HPA adds pods, each pod's share and the utilisation it reports fall. On the
  local cluster the CPU use is KWOK's (a usage annotation on each running pod, served by the real
  metrics-server); the HPA controller that decides is the real one. The scale-down window is set
  in the HPA's behavior (scenarios/hpa/hpa.yaml) and reported with the figures.

  Scenario: Load scales the Deployment up within its maximum, and back down after the window
    Given a cluster with at least 3 Ready nodes
    And deployment "shop" from "scenarios/hpa" is ready
    And availability of service "shop" is measured
    And within 90 s HPA "shop" reads its CPU metric
    Then from now on, HPA "shop" never exceeds its maximum replicas
    When a load of 0.4 CPU cores is offered to deployment "shop"
    Then within 60 s HPA "shop" scales from 2 to at least 4 replicas
    And within 30 s deployment "shop" has at least 4 ready replicas
    When the load on deployment "shop" is removed
    Then HPA "shop" does not scale down before its stabilization window has passed
    Then within 90 s HPA "shop" scales back down to 2 replicas
    And HPA "shop" never exceeded its maximum replicas
    And service "shop" had at least 2 ready endpoints at every moment

  Scenario: Scaled by hand under load — "from N" is the replicas the step sees, not those when the load began
    Given a cluster with at least 3 Ready nodes
    And deployment "shop" from "scenarios/hpa" is ready
    And within 90 s HPA "shop" reads its CPU metric
    When a load of 0.6 CPU cores is offered to deployment "shop"
    And deployment "shop" is patched with:
      """
      spec:
        replicas: 3
      """
    Then within 60 s HPA "shop" scales from 3 to at least 4 replicas
