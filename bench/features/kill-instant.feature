@bench
Feature: bench peers — kill 2 of 3 pods, 5 trials, pods Ready at once
  Scenario: 5 trials of killing 2 of 3 pods, each waiting for 3 Ready
    Given a cluster with at least 3 Ready nodes
    And deployment "web" from "bench/manifests/web-instant.yaml" is ready
    When 2 pods of deployment "web" are killed 5 times, each time waiting up to 30 s for 3 ready replicas
    Then the p90 recovery time over the trials is under 30 s
