/** Status texts of retries, supersession and exhausted attempts stay within GitHub's 140 characters. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_DESCRIPTION } from "../../src/forge/types.js";
import { exhausted, retrying, supersededBy } from "../../src/runner/outcome.js";
import { isNetworkError } from "../../src/runner/stop.js";

test("long reasons and worker names are cut to 140 characters, the worker tag kept", () => {
  const reason = `worker ${"x".repeat(300)} lost`;
  assert.ok(retrying(reason, 2, 3).length <= MAX_DESCRIPTION);
  const final = exhausted(reason, 3, "w-long");
  assert.equal(final.length, MAX_DESCRIPTION);
  assert.ok(final.endsWith(" [w-long]"));
  assert.equal(supersededBy("0123456789abcdef"), "Superseded by 0123456");
  assert.equal(
    retrying("the job could not start", 2, 3),
    "Retrying after the job could not start (attempt 2 of 3)",
  );
});

test("clone errors caused by the network are retried; a missing commit is not", () => {
  assert.equal(
    isNetworkError("git fetch failed: fatal: unable to access 'https://x/': Could not resolve host: x"),
    true,
  );
  assert.equal(isNetworkError("git fetch failed: fatal: the remote end hung up unexpectedly"), true);
  assert.equal(isNetworkError("git fetch failed: fatal: couldn't find remote ref deadbeef"), false);
});
