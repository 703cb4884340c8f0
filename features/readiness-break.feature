@readiness
Feature: Readiness break — an unready pod leaves its Service, keeps running, and counts against its budget
  A failing readiness probe makes the kubelet report a pod Ready=False. The container keeps
  running and is not restarted; the EndpointSlice controller marks the endpoint not ready, so
  the Service sends it no new connections; a PodDisruptionBudget counts the pod unhealthy. On
  the local cluster a KWOK stage plays the kubelet's part (pod label kubeproof.io/unready=true);
  the controllers, the EndpointSlices and the Eviction API are the real ones.

  Scenario: An unready pod leaves the Service's ready endpoints and comes back when restored
    Given a cluster with at least 3 Ready nodes
    And deployment "web" from "scenarios/web" is ready
    And availability of service "web" is measured
    When 1 pod of deployment "web" fails readiness
    Then within 5 s the unready pod of deployment "web" leaves the ready endpoints of service "web"
    And for 10 s the unready pod of deployment "web" is neither restarted nor replaced
    And within 10 s PodDisruptionBudget "web" counts 2 healthy pods
    And evicting a Ready pod of deployment "web" is refused with 429
    When the readiness of deployment "web" is restored
    Then within 5 s the unready pod of deployment "web" returns to the ready endpoints of service "web"
    And service "web" had at least 2 ready endpoints at every moment
    And availability of service "web" stayed ≥ 99.5 %

  Scenario: With the budget exhausted by unready pods, evicting one of them is refused
    Given a cluster with at least 3 Ready nodes
    And deployment "web" from "scenarios/web" is ready
    When 2 pods of deployment "web" fail readiness
    Then within 10 s PodDisruptionBudget "web" counts 1 healthy pod
    And evicting an unready pod of deployment "web" is refused with 429

  Scenario: A budget with unhealthyPodEvictionPolicy AlwaysAllow lets an unready pod go
    Given a cluster with at least 3 Ready nodes
    And deployment "lenient" from "scenarios/readiness/lenient.yaml" is ready
    When 2 pods of deployment "lenient" fail readiness
    Then within 10 s PodDisruptionBudget "lenient" counts 1 healthy pod
    And evicting an unready pod of deployment "lenient" is allowed
    And within 30 s deployment "lenient" has at least 2 ready replicas

  Scenario: A StatefulSet pod chosen by name
    Given a cluster with at least 3 Ready nodes in zones a, b and c
    And statefulset "db" from "scenarios/workloads/statefulset.yaml" is ready
    When pod "db-1" fails readiness
    Then within 5 s pod "db-1" leaves the ready endpoints of service "db"
    And for 5 s pod "db-1" is neither restarted nor replaced
    When every broken readiness is restored
    Then within 5 s pod "db-1" returns to the ready endpoints of service "db"
