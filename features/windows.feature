@windows @myth
Feature: Windows — which moments an "at no moment" claim looks at
  An "at no moment …" claim looks at a window: from the first thing the scenario did to its
  workloads (a fault, a kill, a scale, an image change, a patch), or from a "From now on, …"
  step — never from the scenario's start, which would count the initial rollout's pods, not
  Ready yet, as unavailable.
  Myth: "a rolling update takes pods down one at a time".
  Fact: at the defaults (maxUnavailable 25 % rounded down, maxSurge 25 % rounded up) a
  Deployment of 3 adds a new pod before it removes an old one: no pod is unavailable.

  Background:
    Given a cluster with at least 3 Ready nodes
    And deployment "web" from "scenarios/web" is ready

  Scenario: Scaling up opens the window; the initial rollout is not in it
    When deployment "web" is scaled to 5 replicas
    Then within 30 s deployment "web" has 5 ready replicas
    And at no moment were more than 2 pods of deployment "web" unavailable

  Scenario: From now on, a rolling update at the defaults takes no pod away
    Then from now on, at no moment are more than 0 pods of deployment "web" unavailable
    When the image of deployment "web" is set to "kubeproof.local/testapp:2"
    Then within 60 s the rollout of deployment "web" completes

  Scenario: From now on, a rolling update at the defaults keeps the Service serving and the budget whole
    Given availability of service "web" is measured
    Then from now on, service "web" has at least 2 ready endpoints at every moment
    And from now on, availability of service "web" stays ≥ 99 %
    And from now on, service "web" has no outage longer than 2 s
    And from now on, PodDisruptionBudget "web" never allows a negative number of disruptions
    When the image of deployment "web" is set to "kubeproof.local/testapp:2"
    Then within 60 s the rollout of deployment "web" completes
