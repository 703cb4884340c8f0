@real
Feature: Real CPU drives a HorizontalPodAutoscaler up and back down
  HTTP requests to the test app's /burn through its Service make the containers spin real CPU
  on the real node; metrics-server reads it from the real kubelet and the real HPA controller
  decides. The scale-down window is set in the HPA's behavior (scenarios/real/hpa.yaml).

  Scenario: Real load scales the Deployment up to its maximum, and back down once it stops
    Given a real node
    And deployment "burn" from "scenarios/real/hpa.yaml" is ready
    And within 90 s HPA "burn" reads its CPU metric
    When a load of 0.3 CPU cores is offered to deployment "burn"
    Then within 90 s HPA "burn" scales from 2 to at least 4 replicas
    And within 30 s deployment "burn" has at least 4 ready replicas
    When the load on deployment "burn" is removed
    Then within 120 s HPA "burn" scales back down to 2 replicas
    And HPA "burn" never exceeded its maximum replicas
