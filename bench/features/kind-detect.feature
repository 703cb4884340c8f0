@bench @real
Feature: bench detection — how long until the control plane sees a node go down, by mechanism
  Each scenario takes one node down and waits (generously, so the figure is what the cluster
  took under the timings in force, fast or upstream) until the node-lifecycle controller marks
  it Unknown, then brings it back and waits until it is Ready again. On kind: `docker stop`,
  `systemctl stop kubelet` in the node, `docker pause`.

  Scenario: the node's machine goes away
    Given a cluster with at least 3 Ready nodes
    When node "node-2" stops sending heartbeats
    Then within 150 s node "node-2" is Unknown
    When node "node-2" is brought back
    Then within 60 s node "node-2" is Ready

  Scenario: the node's kubelet stops
    Given a real node
    When the kubelet of node "real-1" is stopped
    Then within 150 s node "real-1" is Unknown
    When node "real-1" is brought back
    Then within 60 s node "real-1" is Ready

  Scenario: the node freezes
    Given a real node
    When node "real-1" freezes
    Then within 150 s node "real-1" is Unknown
    When node "real-1" is brought back
    Then within 60 s node "real-1" is Ready
