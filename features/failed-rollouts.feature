@myth @rollouts
Feature: Myth vs fact — a rollout whose new pods never become Ready
  Myth: "a PodDisruptionBudget protects a rollout".
  Fact: a rolling update does not evict: the Deployment controller scales the old ReplicaSet
  down as far as the strategy's maxUnavailable lets it, whatever the budget says. Only
  maxUnavailable (and maxSurge) keep old pods serving.

  Myth: "a rollout that misses its progressDeadlineSeconds is rolled back".
  Fact: the Deployment only reports it (Progressing=False, reason ProgressDeadlineExceeded) and
  stays as it is: the new pods stay unready, the old ones keep serving. A rollback is a person's
  (or a tool's) decision.

  On the local cluster the new version's pods carry kubeproof.io/unready=true from the start
  (scenarios/stages/pod-start-unready.yaml): they run, never Ready. The Deployment, ReplicaSet,
  disruption and EndpointSlice controllers are the real ones.

  Background:
    Given a cluster with at least 3 Ready nodes

  Scenario: maxUnavailable 0 — the rollout stalls, reports its deadline, and the old pods keep serving
    Given deployment "checkout" from "scenarios/rollout/checkout.yaml" is ready
    And availability of service "checkout" is measured
    When deployment "checkout" rolls out a version that never becomes ready
    Then the rollout of deployment "checkout" stalls for 3 s
    And the rollout of deployment "checkout" reports ProgressDeadlineExceeded within 15 s
    And for 3 s the old pods of deployment "checkout" keep at least 3 ready endpoints in service "checkout"
    And service "checkout" had at least 3 ready endpoints at every moment

  Scenario: maxUnavailable 2 — the rollout takes 2 of 3 pods away although the budget wants 2
    Given deployment "catalog" from "scenarios/rollout/catalog.yaml" is ready
    When deployment "catalog" rolls out a version that never becomes ready
    Then within 10 s PodDisruptionBudget "catalog" counts 1 healthy pod
    And at one moment at least 2 pods of deployment "catalog" were unavailable
    And the rollout of deployment "catalog" stalls for 2 s
    And for 2 s the old pods of deployment "catalog" keep at least 1 ready endpoint in service "catalog"
