import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decide } from "../../src/webhook/filter.js";

describe("webhook filter", () => {
  test("queues pull_request opened, synchronize and reopened only", () => {
    for (const action of ["opened", "synchronize", "reopened"]) {
      assert.equal(decide("pull_request", { action }).kind, "queue", action);
    }
    for (const action of ["closed", "edited", "labeled"]) {
      assert.equal(decide("pull_request", { action }).kind, "ignore", action);
    }
  });

  test("queues a status only when pending with a direct-trigger description", () => {
    assert.equal(
      decide("status", { state: "pending", description: "Not yet tested (direct trigger)" }).kind,
      "queue",
    );
    assert.equal(
      decide("status", { state: "pending", description: "(direct trigger) not at the end" }).kind,
      "ignore",
    );
    assert.equal(decide("status", { state: "pending" }).kind, "ignore");
    assert.equal(decide("status", { state: "failure", description: "x (direct trigger)" }).kind, "ignore");
  });

  test("queues a created comment only on a pull request", () => {
    assert.equal(decide("issue_comment", { action: "created", issue: { pull_request: {} } }).kind, "queue");
    assert.equal(decide("issue_comment", { action: "created", issue: {} }).kind, "ignore");
    assert.equal(decide("issue_comment", { action: "deleted", issue: { pull_request: {} } }).kind, "ignore");
  });

  test("queues check_run rerequested only", () => {
    assert.equal(decide("check_run", { action: "rerequested" }).kind, "queue");
    assert.equal(decide("check_run", { action: "completed" }).kind, "ignore");
  });

  test("answers ping, and gives a reason naming the event and action when ignoring", () => {
    assert.equal(decide("ping", {}).kind, "ping");
    const ignored = decide("pull_request", { action: "closed" });
    assert.equal(ignored.kind, "ignore");
    assert.match(ignored.kind === "ignore" ? ignored.reason : "", /pull_request action closed/);
    const unknown = decide("push", {});
    assert.match(unknown.kind === "ignore" ? unknown.reason : "", /push/);
  });
});
