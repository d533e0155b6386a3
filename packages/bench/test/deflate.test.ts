// The bench server's deflate side: compressed streams it builds inflate (with a persistent zlib
// stream, as a client does) to the messages, with and without context takeover, and the verifier
// accepts exactly the expected bytes.
import { constants, inflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { MessageDeflater, StreamVerifier } from "../src/deflate.js";
import { JSON_SEND_CYCLE, jsonMessage, jsonPrefix } from "../src/payload.js";
import type { DeflateParams } from "../src/wire.js";

const TAIL = Buffer.from([0, 0, 0xff, 0xff]);
const takeover: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
};

/** Inflates a whole stream of compressed messages at once: it only works if they form one valid stream. */
function inflateAll(payloads: Buffer[]): Buffer {
  return inflateRawSync(Buffer.concat(payloads.flatMap((p) => [p, TAIL])), {
    finishFlush: constants.Z_SYNC_FLUSH,
  });
}

describe("jsonMessage", () => {
  it.each([32, 1200, 65536])("is exactly %i bytes of JSON, starting with its sequence number", (size) => {
    const text = jsonMessage(size, 42);
    expect(Buffer.byteLength(text)).toBe(size);
    expect(text.length).toBe(size);
    expect(text.startsWith(jsonPrefix(42))).toBe(true);
    expect(JSON.parse(text).seq).toBe("0000000042");
  });

  it("differs between messages and refuses sizes with no room for the sequence number", () => {
    expect(jsonMessage(1200, 1)).not.toBe(jsonMessage(1200, 2));
    expect(() => jsonMessage(31, 0)).toThrow("at least 32 bytes");
  });
});

describe("MessageDeflater", () => {
  const messages = Array.from({ length: 40 }, (_, seq) => Buffer.from(jsonMessage(1200, seq)));

  it("with context takeover, builds one stream whose later messages refer to earlier ones", () => {
    const deflater = new MessageDeflater(takeover);
    const payloads = messages.map((m) => deflater.compress(m));
    expect(inflateAll(payloads).equals(Buffer.concat(messages))).toBe(true);
    // Message 39 alone cannot be inflated: it refers to the earlier messages' bytes.
    expect(() =>
      inflateRawSync(Buffer.concat([payloads[39]!, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }),
    ).toThrow();
    const alone = new MessageDeflater({ ...takeover, serverNoContextTakeover: true });
    expect(payloads[39]!.length).toBeLessThan(alone.compress(messages[39]!).length * 0.8);
  });

  it("without context takeover, compresses each message on its own", () => {
    const deflater = new MessageDeflater({ ...takeover, serverNoContextTakeover: true });
    for (const message of messages.slice(0, 5)) {
      const payload = deflater.compress(message);
      const out = inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH });
      expect(out.equals(message)).toBe(true);
    }
  });

  it("keeps within a 9-bit window when asked", () => {
    const deflater = new MessageDeflater({ ...takeover, serverMaxWindowBits: 9 });
    const payloads = messages.slice(0, 10).map((m) => deflater.compress(m));
    const out = inflateRawSync(Buffer.concat(payloads.flatMap((p) => [p, TAIL])), {
      windowBits: 9,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    expect(out.equals(Buffer.concat(messages.slice(0, 10)))).toBe(true);
  });
});

describe("StreamVerifier", () => {
  const size = 1200;
  const reference = Buffer.from(
    Array.from({ length: JSON_SEND_CYCLE }, (_, s) => jsonMessage(size, s)).join(""),
  );

  /** Feeds `count` messages (message i = JSON i % cycle, or `replace(i)`), each split in two segments. */
  async function verify(count: number, replace: (i: number) => string | undefined = () => undefined) {
    const deflater = new MessageDeflater(takeover);
    let error: string | undefined;
    let progress = 0;
    const verifier = new StreamVerifier(
      reference,
      size,
      (n) => {
        progress = n;
      },
      (reason) => {
        error = reason;
      },
    );
    for (let i = 0; i < count; i++) {
      const payload = deflater.compress(Buffer.from(replace(i) ?? jsonMessage(size, i % JSON_SEND_CYCLE)));
      verifier.append(payload.subarray(0, 5));
      verifier.append(payload.subarray(5));
      verifier.endMessage();
      if (i % 7 === 0) verifier.flush();
    }
    verifier.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    verifier.close();
    expect(progress).toBeLessThanOrEqual(verifier.verifiedBytes);
    return { error, verified: verifier.verifiedBytes };
  }

  it("verifies every byte of a stream longer than the reference cycle", async () => {
    expect(await verify(JSON_SEND_CYCLE * 2 + 3)).toEqual({
      error: undefined,
      verified: (JSON_SEND_CYCLE * 2 + 3) * size,
    });
  });

  it("names the message and the byte that differ", async () => {
    const result = await verify(10, (i) => (i === 6 ? jsonMessage(size, 7) : undefined));
    expect(result.error).toBe("message 6: inflated byte 17 differs from the expected JSON");
    expect(result.verified).toBe(6 * size + 17);
  });

  it("reports a corrupt stream", async () => {
    let error: string | undefined;
    const verifier = new StreamVerifier(
      reference,
      size,
      () => {},
      (reason) => {
        error = reason;
      },
    );
    verifier.append(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    verifier.endMessage();
    verifier.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(error).toMatch(/^inflate: /);
  });
});
