@myth @containers
Feature: Myth vs fact — failing containers, restart policies and a Job's backoffLimit
  Myth: "backoffLimit counts pods: a Job with backoffLimit 3 starts 4 pods before it gives up".
  Fact: it depends on the restart policy. With restartPolicy OnFailure the kubelet restarts the
  failed container in place, and those restarts count toward backoffLimit: the Job gives up
  after 3 restarts of its one pod (counted as 1 failed pod). With restartPolicy Never every
  failure is a new pod, and the Job gives up once more pods failed than backoffLimit.

  Myth: "a container that keeps crashing fails its pod, and the Deployment replaces it".
  Fact: with restartPolicy Always the pod stays Running; the kubelet restarts the container in
  place (restartCount rises) with a back-off (CrashLoopBackOff). Nothing replaces the pod.

  On the local cluster no container runs: KWOK's stages play the kubelet, switched by pod
  annotations (scenarios/stages/pod-container-failure.yaml, back-off simulated as a constant);
  the Job, ReplicaSet and Deployment controllers are the real ones. On real kubelets (kind) the
  same manifests run the test app (`exit CODE [after D]`) and a tag no registry has: the
  scenarios that do not depend on how long the kubelet backs off run there too; the two that
  count restarts within seconds need KWOK's constant back-off (a kubelet waits 10 s, doubling).

  Background:
    Given a cluster with at least 1 Ready node

  Scenario: restartPolicy OnFailure — backoffLimit counts restarts in place, not pods
    Given containers simulated by KWOK
    And the manifest "scenarios/failing/job-onfailure.yaml" is applied
    Then within 10 s 1 pod of job "retry-in-place" has restarted at least 2 times
    And job "retry-in-place" fails with BackoffLimitExceeded within 20 s
    And job "retry-in-place" now has 1 failed pod

  Scenario: restartPolicy Never — every failure is a new pod, backoffLimit + 1 of them
    Given the manifest "scenarios/failing/job-never.yaml" is applied
    Then job "once-more" fails with BackoffLimitExceeded within 30 s
    And job "once-more" now has 2 failed pods
    And the oldest pod of job "once-more" is now Failed
    And within 5 s 2 pods of job "once-more" exited with code 3

  Scenario: A container that exits 0 completes its Job
    Given the manifest "scenarios/failing/job-exit-zero.yaml" is applied
    Then job "exits-zero" completes within 20 s
    And job "exits-zero" now has no failed pods
    And the oldest pod of job "exits-zero" is now Succeeded

  Scenario: A crash-looping container keeps its pod Running, restarting in place
    Given containers simulated by KWOK
    And the manifest "scenarios/failing/crashloop.yaml" is applied
    Then within 10 s 2 pods of deployment "crashy" are waiting with reason "CrashLoopBackOff"
    And within 10 s 2 pods of deployment "crashy" have restarted at least 3 times
    And for 3 s 2 pods of deployment "crashy" stay Running

  Scenario: A container that never starts keeps its pod Pending
    Given the manifest "scenarios/failing/image-pull.yaml" is applied
    Then within 30 s 1 pod of deployment "unpullable" is waiting with reason "ImagePullBackOff"
    And for 2 s 1 pod of deployment "unpullable" stays Pending
