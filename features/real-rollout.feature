@real @rollouts
Feature: Real containers — a rollout whose new version never passes its readiness probe
  The test app's new version starts without its ready file (READY_AT_START=false), so the
  kubelet's real HTTP readiness probe fails on every new pod. The rollout stalls with the
  default strategy (maxUnavailable 0): the old pods keep serving, and clients see no failed
  request. Without a real node these scenarios are not applicable.

  Scenario: The new pods fail their HTTP readiness probe — the rollout stalls, clients see no failure
    Given a real node
    And deployment "app" from "scenarios/real/app.yaml" is ready
    And availability of service "app" is measured
    When deployment "app" is patched with:
      """
      spec:
        progressDeadlineSeconds: 10
      """
    And deployment "app" rolls out a version that never becomes ready
    Then the rollout of deployment "app" stalls for 5 s
    And the rollout of deployment "app" reports ProgressDeadlineExceeded within 30 s
    And for 3 s the old pods of deployment "app" keep at least 3 ready endpoints in service "app"
    And availability of service "app" was measured by HTTP requests
    And availability of service "app" stayed ≥ 99.5 %
