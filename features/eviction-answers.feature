@myth @evictions
Feature: Myth vs fact — every answer of the Eviction API
  Myth: "when several PodDisruptionBudgets select a pod, the strictest one decides".
  Fact: the Eviction API refuses to choose: any eviction of a pod that two budgets select is
  answered 500, even when both would allow it. A drain never completes on such a pod (kubectl
  drain retries it until its timeout); here the drain reports the refusal per pod instead.

  The other answers: 429 when a budget does not allow the disruption (the answer names the
  budget), 404 for a pod that is gone, 201 when the eviction is allowed. These come from the
  real API server and disruption controller.

  Background:
    Given a cluster with at least 3 Ready nodes in zones a, b and c

  Scenario: Two budgets select one pod — every eviction is answered 500, and the drain reports it
    Given deployment "shared" from "scenarios/evictions/shared.yaml" is ready
    Then evicting a Ready pod of deployment "shared" is answered with 500
    When node "node-1" is drained, reporting refusals, giving up after 10 s
    Then the drain of node "node-1" was answered with 500 for 2 pods of deployment "shared"
    And the drain of node "node-1" was answered with 500 for the oldest pod of deployment "shared"
    And deployment "shared" now has 2 ready replicas

  Scenario: A budget that allows nothing is named in the 429; an allowed eviction is 201; a gone pod is 404
    Given deployment "ledger" from "scenarios/drain/ledger.yaml" is ready
    And deployment "web" from "scenarios/web" is ready
    And the manifest "scenarios/evictions/lonely.yaml" is applied
    Then evicting a Ready pod of deployment "ledger" is answered with 429 naming PodDisruptionBudget "ledger"
    And evicting the oldest pod of deployment "ledger" is answered with 429 naming PodDisruptionBudget "ledger"
    And evicting a Ready pod of deployment "web" is answered with 201
    When the pods matching "app=lonely" are killed
    Then evicting pod "lonely" is answered with 404

  Scenario: A drain reports the 429s of a budget per pod, and gives up
    Given deployment "ledger" from "scenarios/drain/ledger.yaml" is ready
    When node "node-1" is drained, reporting refusals, giving up after 2 s
    Then the drain of node "node-1" was answered with 429 naming PodDisruptionBudget "ledger" for 3 pods of deployment "ledger"
    And the drain of node "node-1" was answered with 429 naming PodDisruptionBudget "ledger" for the oldest pod of deployment "ledger"
    And the drain of node "node-1" gave up, blocked by PodDisruptionBudget "ledger"
