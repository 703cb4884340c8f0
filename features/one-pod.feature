@one-pod @myth
Feature: One pod — what happens to a pod that dies, and in which order a StatefulSet starts
  Myth: "a killed pod is restarted" — the same pod comes back.
  Fact: it is replaced by a new pod (a new UID). A Deployment's replacement has a new name; a
  StatefulSet's has the same name, and it is still a new pod. A pod without a controller is not
  replaced at all.
  Myth: "a StatefulSet starts its pods one at a time".
  Fact: only with podManagementPolicy OrderedReady (the default): pod n is Ready before pod n+1
  exists. With Parallel they are created together.

  Background:
    Given a cluster with at least 3 Ready nodes

  Scenario: A Deployment's killed pod is replaced by a new pod with a new name
    Given deployment "web" from "scenarios/web" is ready
    Then for 2 s the oldest pod of deployment "web" stays Running
    When the oldest pod of deployment "web" is killed
    Then within 30 s the oldest pod of deployment "web" is replaced

  Scenario: A StatefulSet started in order; its killed member comes back with the same name, as a new pod
    Given statefulset "ordered" from "scenarios/workloads/ordered.yaml" is ready
    Then statefulset "ordered" started its pods in order, each Ready before the next was created
    And the oldest pod of statefulset "ordered" is now Ready
    When pod "ordered-1" is killed
    Then within 30 s pod "ordered-1" comes back with the same name
    And within 10 s pod "ordered-1" is Ready

  Scenario: A Parallel StatefulSet creates its pods without waiting for the ones before
    Given statefulset "db" from "scenarios/workloads/statefulset.yaml" is ready
    Then statefulset "db" created a pod before the one before it was Ready

  Scenario: A bare pod runs where it was put, and nothing restarts it
    Given this manifest is applied:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: solo
      spec:
        nodeName: node-1
        containers:
        - name: main
          image: kubeproof.local/testapp:1
          imagePullPolicy: IfNotPresent
      """
    Then within 30 s pod "solo" is Running
    And within 30 s pod "solo" runs on node "node-1"
    And within 5 s pod "solo" has no restarts
