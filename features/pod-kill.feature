@pod-kill
Feature: Pod kill — a Deployment replaces the pods that die
  Pods die: a crash, an OOM kill, an operator's mistake. A Deployment's ReplicaSet creates
  replacements. These scenarios delete pods directly (no PodDisruptionBudget protects
  against that) and measure how long the Deployment takes to be whole again.

  Background:
    Given a cluster with at least 3 Ready nodes
    And deployment "web" from "scenarios/web" is ready

  Scenario: Killing 2 of 3 pods — the ReplicaSet brings 3 Ready pods back
    Given availability of service "web" is measured
    When 2 pods of deployment "web" are killed
    Then within 30 s 3 pods of deployment "web" are Ready
    And within 30 s deployment "web" has 3 ready replicas
    And availability of service "web" stayed ≥ 99.5 %
    And service "web" had no outage longer than 2 s

  Scenario: Recovery time percentile over repeated kills
    When 1 pod of deployment "web" is killed 5 times, each time waiting up to 30 s for 3 ready replicas
    Then the p90 recovery time over the trials is under 10 s

  Scenario: A seeded kill of half the pods can be replayed
    When 50% of the pods of deployment "web" are killed with seed 42
    Then within 30 s deployment "web" has 3 ready replicas

  Scenario: Killing without a grace period
    Given availability of service "web" is measured
    When 1 pod of deployment "web" is killed with a grace period of 0 s
    Then within 30 s 3 pods of deployment "web" are Ready
    And service "web" had at least 2 ready endpoints at every moment

  Scenario: Killing every pod the selector matches
    Given availability of service "web" is measured
    When the pods matching "app=web" are killed
    Then within 30 s 3 pods of deployment "web" are Ready
    And within 30 s every zone runs at least 1 Ready pod of deployment "web"
    And service "web" had no outage longer than 5 s
