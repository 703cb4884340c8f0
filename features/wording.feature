@wording
Feature: Sentences that say what they check
  Older wordings still run; `kubeproof check` notes them with the sentence to use now.

  Background:
    Given a cluster with at least 3 Ready nodes

  Scenario: A Job is "ready" once it has run to completion, and the sentence says so
    Given job "migrate" from "scenarios/workloads/job.yaml" has run to completion
    Then within 1 s job "migrate" completes

  Scenario: A pod that was never a ready endpoint becomes one (it does not "return")
    Given the manifest "scenarios/workloads/ordered.yaml" is applied
    Then within 30 s pod "ordered-2" becomes a ready endpoint of service "ordered"

  Scenario: For a while, none of the pods is Running
    Given the manifest "scenarios/workloads/huge.yaml" is applied
    Then for 3 s none of the pods of deployment "huge" is Running
