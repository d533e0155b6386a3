import { UnexpectedResponseError } from "@tideway/core";
import { describe, expect, it } from "vitest";
import { MAX_RETRY_AFTER_MS, retryAfterMs, serverRetryAfter } from "../src/node-verdict.js";

/** The core's answer to a non-101 status. */
function httpError(status: number, headers: Record<string, string> = {}): UnexpectedResponseError {
  return new UnexpectedResponseError({ status, statusText: "", headers, rawHeaders: [] }, new Uint8Array());
}

describe("serverRetryAfter", () => {
  it("reads Retry-After on a 429 or 503 answer only", () => {
    expect(serverRetryAfter(httpError(503, { "retry-after": "2" }))).toBe(2000);
    expect(serverRetryAfter(httpError(429, { "retry-after": "1" }))).toBe(1000);
    expect(serverRetryAfter(httpError(500, { "retry-after": "2" }))).toBeUndefined();
    expect(serverRetryAfter({ status: 503, headers: { "retry-after": "2" } })).toBeUndefined();
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");

  it("reads delta-seconds", () => {
    expect(retryAfterMs({ "retry-after": "120" }, now)).toBe(120_000);
    expect(retryAfterMs({ "retry-after": "0" }, now)).toBe(0);
    expect(retryAfterMs({ "retry-after": " 5 " }, now)).toBe(5000);
    expect(retryAfterMs({ "Retry-After": "3" }, now)).toBe(3000);
  });

  it("reads an HTTP-date in any of its three forms, relative to now", () => {
    expect(retryAfterMs({ "retry-after": "Wed, 21 Oct 2015 07:28:30 GMT" }, now)).toBe(30_000);
    expect(retryAfterMs({ "retry-after": "Wednesday, 21-Oct-15 07:29:00 GMT" }, now)).toBe(60_000);
    expect(retryAfterMs({ "retry-after": "Wed Oct 21 07:28:10 2015" }, now)).toBe(10_000);
  });

  it("a date in the past means now", () => {
    expect(retryAfterMs({ "retry-after": "Wed, 21 Oct 2015 07:00:00 GMT" }, now)).toBe(0);
  });

  it("caps at one hour", () => {
    expect(retryAfterMs({ "retry-after": "999999999" }, now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs({ "retry-after": "Thu, 22 Oct 2015 07:28:00 GMT" }, now)).toBe(MAX_RETRY_AFTER_MS);
  });

  it("returns undefined for a missing or invalid header", () => {
    for (const value of [
      "",
      "soon",
      "1.5",
      "-1",
      "+3",
      "12abc",
      "0x10",
      "Wed, garbage",
      "Funday, 1 Jan 2020",
    ]) {
      expect(retryAfterMs({ "retry-after": value }, now), value).toBeUndefined();
    }
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ "x-retry-after": "5" }, now)).toBeUndefined();
  });
});
