@taint
Feature: NoExecute taints evict what does not tolerate them
  A NoExecute taint evicts running pods: at once without a matching toleration, after
  tolerationSeconds with one, never with a toleration that has no tolerationSeconds.
  NoSchedule only keeps new pods off. The taint is removed when the scenario ends.

  Background:
    Given a cluster with at least 3 Ready nodes in zones a, b and c
    And the manifests in "scenarios/taints" are applied
    And within 30 s 2 pods of deployment "no-toleration" are Ready on node "node-1"
    And within 30 s 2 pods of deployment "tolerates-5s" are Ready on node "node-1"
    And within 30 s 2 pods of deployment "tolerates-forever" are Ready on node "node-1"

  Scenario: Pods without a matching toleration are evicted at once
    When node "node-1" is tainted "dedicated=db:NoExecute"
    Then within 10 s no pods of deployment "no-toleration" are Ready on node "node-1"
    And the pods of deployment "no-toleration" left node "node-1" between 0 s and 3 s after the taint

  Scenario: Pods that tolerate the taint for 5 s are evicted after about 5 s
    When node "node-1" is tainted "dedicated=db:NoExecute"
    Then within 20 s no pods of deployment "tolerates-5s" are Ready on node "node-1"
    And it happened no sooner than 4 s after the fault
    And the pods of node "node-1" are not evicted before the toleration has passed
    And the pods of deployment "tolerates-5s" left node "node-1" between 4 s and 12 s after the taint

  Scenario: Pods that tolerate the taint without a time limit stay
    When the nodes labelled "kubernetes.io/hostname=node-1" are tainted "dedicated=db:NoExecute"
    Then within 10 s no pods of deployment "no-toleration" are Ready on node "node-1"
    And for 8 s 2 pods of deployment "tolerates-forever" stay Ready

  Scenario: NoSchedule leaves running pods alone and keeps new pods off
    When the nodes in zone "c" are tainted "maintenance:NoSchedule"
    And node "node-1" is tainted "maintenance:NoSchedule"
    Then for 5 s 2 pods of deployment "no-toleration" stay Ready
    When deployment "spread" is scaled to 4 replicas
    Then within 30 s 4 pods of deployment "spread" are Ready in zone "b"
