@real
Feature: A real node's kubelet stops — the control plane marks the node and replaces its pods
  The kubelet process of the real node is stopped (its containers keep running under
  containerd, as when a kubelet dies): its heartbeats really stop, the node-lifecycle
  controller marks the node Unknown and taints it, the taint evicts the pods after their
  default toleration, and the ReplicaSet's replacements are scheduled on the KWOK nodes (the
  Deployment prefers the real node but may run anywhere). The undo starts the kubelet again
  with the same command line. The timings in force are in the report.

  A frozen node: on kind its container is paused (`docker pause`: every process on it, the
  containers too; where the engine cannot freeze, every process in it but its init gets
  SIGSTOP, the report says which); on the local cluster the real node's kubelet process gets SIGSTOP (its
  containers run on). Either way nothing reports for the node while its connections stay
  open, and after the thaw the same kubelet carries on.

  Either way the pods stay bound to the node until their toleration of the unreachable taint
  (the admission default) has passed since the node went down: the taint comes only once the
  node is marked Unknown, so no pod can go sooner.

  Scenario: A stopped kubelet — node Unknown, pods replaced on other nodes, Ready once started again
    Given a real node
    And deployment "failover" from "scenarios/real/failover.yaml" is ready
    And 2 pods of deployment "failover" run on node "real-1"
    When the kubelet of node "real-1" is stopped
    Then within 30 s node "real-1" is Unknown
    And within 60 s the pods of node "real-1" are replaced on other nodes
    And the pods of node "real-1" are not evicted before the toleration has passed
    When node "real-1" is brought back
    Then within 30 s node "real-1" is Ready

  Scenario: A frozen node — Unknown, its pods replaced, Ready again once thawed
    Given a real node
    And deployment "failover" from "scenarios/real/failover.yaml" is ready
    And 2 pods of deployment "failover" run on node "real-1"
    When node "real-1" freezes
    Then within 30 s node "real-1" is Unknown
    And within 60 s the pods of node "real-1" are replaced on other nodes
    And the pods of node "real-1" are not evicted before the toleration has passed
    When node "real-1" is brought back
    Then within 30 s node "real-1" is Ready
