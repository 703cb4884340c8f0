@real
Feature: Real containers — probes, traffic through a Service, restarts and drains on a real node
  The test app runs as real containers on the local cluster's real node (kubelet, containerd,
  runc, kube-proxy). Its readiness probe is a real HTTP probe, switched off through the API's
  exec subresource; availability is measured by HTTP requests through the Service's ClusterIP
  from this machine (20 per second, a new connection each), so it is what a client saw.
  Without a real node (no root, or the packages missing) these scenarios are not applicable.

  Background:
    Given a real node
    And deployment "app" from "scenarios/real/app.yaml" is ready
    And availability of service "app" is measured

  Scenario: A real readiness probe fails — the pod leaves the Service, traffic avoids it, and comes back
    When 1 pod of deployment "app" fails readiness
    Then within 3 s the unready pod of deployment "app" leaves the ready endpoints of service "app"
    And within 5 s requests through service "app" no longer reach the unready pod of deployment "app"
    And for 5 s the unready pod of deployment "app" is neither restarted nor replaced
    When the readiness of deployment "app" is restored
    Then within 3 s the unready pod of deployment "app" returns to the ready endpoints of service "app"
    And within 5 s requests through service "app" reach the unready pod of deployment "app" again
    And availability of service "app" was measured by HTTP requests
    And availability of service "app" stayed ≥ 99.5 %

  Scenario: A pod killed behind a Service — clients see no outage
    When 1 pod of deployment "app" is killed
    Then within 30 s 3 pods of deployment "app" are Ready
    And for 5 s at least 3 pods of deployment "app" stay Ready
    And availability of service "app" was measured by HTTP requests
    And availability of service "app" stayed ≥ 99.5 %
    And service "app" had no outage longer than 1 s

  Scenario: Draining the real node — the budget keeps 2 pods serving, clients see no outage
    When node "real-1" is drained, giving up after 15 s
    Then the drain of node "real-1" gave up, blocked by PodDisruptionBudget "app"
    And service "app" had at least 2 ready endpoints at every moment
    And availability of service "app" stayed ≥ 99.5 %
    And service "app" had no outage longer than 1 s

  Scenario: A killed container is restarted in place by the kubelet, then held in back-off
    When the container of 1 pod of deployment "app" is killed
    Then within 20 s the killed container is restarted in place by the kubelet
    When the killed container is killed again as soon as it runs
    Then within 40 s the killed container is restarted in place by the kubelet
    And the kubelet held the killed container in CrashLoopBackOff for at least 5 s
