@bench
Feature: bench overhead — one pod-kill scenario, timed part by part
  Scenario: kill 2 of 3 pods that take 2 s to become Ready, wait for 3 Ready
    Given deployment "web" from "bench/manifests/web-slow.yaml" is ready
    When 2 pods of deployment "web" are killed
    Then within 30 s 3 pods of deployment "web" are Ready
