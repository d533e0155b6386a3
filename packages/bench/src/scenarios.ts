// The benchmark scenarios and their budgets. Budgets are sized so that `ws` needs about a second
// per measurement on the 2-core reference machine (and the slowest library a few seconds).

export interface Metric {
  readonly key: string;
  readonly unit: string;
  /** Which way is better; every ratio in the report is value / ws, whatever the direction. */
  readonly better: "higher" | "lower";
}

interface Base {
  /** Stable id, used on the command line (--scenarios) and as the JSON key. */
  readonly id: string;
  readonly title: string;
  readonly metrics: readonly Metric[];
  /** Adapters that cannot run this scenario, with the reason: the report says "n/a", the driver skips them. */
  readonly notApplicable?: Readonly<Record<string, string>>;
  /**
   * The library's default options (Tideway: heartbeat on, permessage-deflate offered; the /recv
   * server declines the offer) instead of the bench's stripped ones (heartbeat off, no offer).
   */
  readonly defaults?: boolean;
  /**
   * "iterator": Tideway delivers through `for await`; libraries without an iterator (ws, undici)
   * keep their message event, so the ratio compares Tideway's iterator to their event path.
   * "stream": Tideway receives each message as a stream of chunks (`receive: "stream"`); libraries
   * that cannot stream a receive (ws) get whole messages.
   */
  readonly delivery?: "events" | "iterator" | "stream";
  /**
   * A cold process: no warm-up run, and the clock starts before connect(), so the figure includes
   * the first connection, the JIT's first compiles and the lazily built state of every library.
   */
  readonly cold?: boolean;
  /**
   * Tideway with a subscriber on every `tideway:client:*` diagnostics channel, to compare with the
   * same scenario without: a subscriber must cost nothing measurable. Other libraries run as without.
   */
  readonly diagnostics?: boolean;
}

/** What a receive scenario's server sends: bytes, ASCII text, or mixed 1- to 4-byte UTF-8 text. */
export type RecvPayload = "binary" | "text" | "utf8";

export type Scenario =
  | (Base & {
      readonly kind: "recv";
      readonly size: number;
      readonly count: number;
      readonly payload: RecvPayload;
    })
  | (Base & { readonly kind: "send"; readonly size: number; readonly count: number })
  // One message of `size` bytes per send, streamed as fragments of `chunk` bytes from an async
  // source (Tideway: send(asyncIterable); ws: send(chunk, { fin: false }), then an empty FIN frame).
  | (Base & {
      readonly kind: "send-stream";
      readonly size: number;
      readonly chunk: number;
      readonly count: number;
    })
  | (Base & { readonly kind: "echo"; readonly size: number; readonly count: number; readonly warmup: number })
  | (Base & { readonly kind: "idle"; readonly connections: number })
  | (Base & { readonly kind: "handshake"; readonly count: number })
  // permessage-deflate (RFC 7692) with JSON messages of `size` bytes: the server negotiates it
  // (context takeover on both sides, 15-bit windows) and refuses a client that does not offer it;
  // every message crosses compressed (RSV1), and is verified after inflating.
  | (Base & { readonly kind: "recv-deflate"; readonly size: number; readonly count: number })
  | (Base & { readonly kind: "send-deflate"; readonly size: number; readonly count: number })
  // A slow consumer of `count` JSON messages of `size` bytes, compressed or not: the client
  // process's peak RSS.
  | (Base & {
      readonly kind: "slow";
      readonly size: number;
      readonly count: number;
      readonly compressed: boolean;
    });

const KiB = 1024;
const MiB = 1024 * KiB;

const MSG_RATE: readonly Metric[] = [{ key: "rate", unit: "msg/s", better: "higher" }];
const BYTE_RATE: readonly Metric[] = [{ key: "throughput", unit: "MB/s", better: "higher" }];

function sizeLabel(size: number): string {
  if (size % KiB !== 0) return `${size} B`;
  return size >= MiB ? `${size / MiB} MiB` : size >= KiB ? `${size / KiB} KiB` : `${size} B`;
}

const PAYLOAD_TITLES: Record<RecvPayload, string> = {
  binary: "binary",
  text: "text (as strings)",
  utf8: "mixed UTF-8 text (1-4 byte sequences)",
};

function recv(size: number, count: number, text = false): Scenario {
  return {
    id: `recv-${text ? "text" : "binary"}-${size}`,
    title: `receive ${sizeLabel(size)} ${text ? "text (as strings)" : "binary"}`,
    kind: "recv",
    size,
    count,
    payload: text ? "text" : "binary",
    metrics: size < KiB ? MSG_RATE : BYTE_RATE,
  };
}

/**
 * Receive as users run it: default options, through `for await` ("iterator") or the message
 * event ("events"), binary or mixed UTF-8 text.
 */
function recvDefaults(
  delivery: "events" | "iterator",
  payload: RecvPayload,
  size: number,
  count: number,
  diagnostics = false,
): Scenario {
  const how = delivery === "iterator" ? "iter" : "defaults";
  return {
    id: `recv-${how}-${payload}-${size}${diagnostics ? "-diag" : ""}`,
    title: `receive ${sizeLabel(size)} ${PAYLOAD_TITLES[payload]}, defaults, ${delivery === "iterator" ? "for await" : "message event"}${diagnostics ? ", diagnostics subscribed" : ""}`,
    kind: "recv",
    size,
    count,
    payload,
    defaults: true,
    delivery,
    ...(diagnostics ? { diagnostics } : {}),
    metrics: size < KiB ? MSG_RATE : BYTE_RATE,
  };
}

const COLD_METRICS: readonly Metric[] = [
  { key: "rate", unit: "msg/s", better: "higher" },
  { key: "first", unit: "ms", better: "lower" },
];

/**
 * A fresh process's first `count` messages, with default options: receive 1 KiB through
 * `for await`, or compressed 1200 B JSON sends; `first` is the time from connect() to the first
 * message received (receive) or to the first send handed over (send: connect() to the sink's
 * verdict is not a first message, so it is the handshake plus the first send() call).
 */
function cold(direction: "recv" | "send-deflate", count: number): Scenario {
  if (direction === "recv") {
    return {
      id: `cold-recv-binary-1024`,
      title: `cold process: first ${count} received 1 KiB binary, defaults, for await`,
      kind: "recv",
      size: KiB,
      count,
      payload: "binary",
      defaults: true,
      delivery: "iterator",
      cold: true,
      metrics: COLD_METRICS,
    };
  }
  return {
    id: "cold-send-deflate-json-1200",
    title: `cold process: first ${count} sends of 1200 B JSON, permessage-deflate`,
    kind: "send-deflate",
    size: 1200,
    count,
    cold: true,
    metrics: COLD_METRICS,
    notApplicable: { undici: "undici's WebSocket negotiates permessage-deflate but sends uncompressed" },
  };
}

/**
 * Large messages received as streams (Tideway `receive: "stream"`, chunks counted and checked as
 * they arrive) beside `ws` receiving them whole: throughput, and the peak RSS growth over the run,
 * which is what streaming saves.
 */
function recvStream(size: number, count: number): Scenario {
  return {
    id: `recv-stream-binary-${size}`,
    title: `receive ${sizeLabel(size)} binary as a stream (ws: whole messages)`,
    kind: "recv",
    size,
    count,
    payload: "binary",
    delivery: "stream",
    metrics: [
      { key: "throughput", unit: "MB/s", better: "higher" },
      { key: "rss", unit: "MB peak growth", better: "lower" },
    ],
    notApplicable: {
      "ws-nobu": "the streamed-receive scenario compares Tideway with ws",
      undici: "the streamed-receive scenario compares Tideway with ws",
    },
  };
}

function send(size: number, count: number): Scenario {
  return {
    id: `send-binary-${size}`,
    title: `send ${sizeLabel(size)} binary`,
    kind: "send",
    size,
    count,
    metrics: size < KiB ? MSG_RATE : BYTE_RATE,
  };
}

function sendStream(size: number, chunk: number, count: number): Scenario {
  return {
    id: `send-stream-${size}`,
    title: `send ${sizeLabel(size)} streamed in ${sizeLabel(chunk)} fragments`,
    kind: "send-stream",
    size,
    chunk,
    count,
    metrics: BYTE_RATE,
    notApplicable: { undici: "the WHATWG WebSocket API sends whole messages only" },
  };
}

/** Compressed JSON: 1200 B is a typical feed message (msg/s), 64 KiB a snapshot (MB/s of JSON). */
function deflate(direction: "recv" | "send", size: number, count: number): Scenario {
  return {
    id: `${direction}-deflate-json-${size}`,
    title: `${direction === "recv" ? "receive" : "send"} ${sizeLabel(size)} JSON, permessage-deflate`,
    kind: direction === "recv" ? "recv-deflate" : "send-deflate",
    size,
    count,
    metrics: size < 64 * KiB ? MSG_RATE : BYTE_RATE,
    ...(direction === "send"
      ? {
          notApplicable: {
            undici: "undici's WebSocket negotiates permessage-deflate but sends uncompressed",
          },
        }
      : {}),
  };
}

function echo(count: number, warmup: number): Scenario {
  return {
    id: "echo-64",
    title: "echo 64 B round trip",
    kind: "echo",
    size: 64,
    count,
    warmup,
    metrics: [
      { key: "p50", unit: "us", better: "lower" },
      { key: "p99", unit: "us", better: "lower" },
    ],
  };
}

function idle(connections: number, defaults = false): Scenario {
  return {
    id: `idle-${defaults ? "defaults-" : ""}${connections}`,
    title: `idle memory per connection (${connections / 1000}k${defaults ? ", defaults" : ""})`,
    kind: "idle",
    connections,
    ...(defaults ? { defaults } : {}),
    metrics: [
      { key: "heap", unit: "KiB/conn", better: "lower" },
      { key: "rss", unit: "KiB/conn", better: "lower" },
    ],
  };
}

/**
 * A slow `for await` consumer (`ws` and undici: their message event) of `count` small JSON
 * messages, with permessage-deflate negotiated or not: compression must not cost the receiver
 * memory that the plain run does not. The figure is the client process's peak RSS.
 */
function slowConsumer(compressed: boolean, size: number, count: number): Scenario {
  return {
    id: `slow-${compressed ? "deflate-" : ""}json-${size}`,
    title: `slow for-await consumer of ${count / 1000}k ${size} B JSON${compressed ? ", permessage-deflate" : ""}`,
    kind: "slow",
    size,
    count,
    compressed,
    delivery: "iterator",
    metrics: [{ key: "rss", unit: "MiB peak", better: "lower" }],
  };
}

function handshake(count: number): Scenario {
  return {
    id: "handshakes",
    title: "sequential handshakes (connect + close)",
    kind: "handshake",
    count,
    metrics: [{ key: "rate", unit: "handshakes/s", better: "higher" }],
  };
}

/** The full suite: every scenario above. */
export function fullScenarios(): Scenario[] {
  return [
    recv(16, 2_000_000),
    recv(KiB, 400_000),
    recv(64 * KiB, 12_000),
    recv(MiB, 768),
    recv(KiB, 100_000, true),
    send(16, 150_000),
    send(KiB, 120_000),
    send(64 * KiB, 8_000),
    send(MiB, 512),
    sendStream(64 * MiB, 64 * KiB, 8),
    echo(20_000, 1_000),
    idle(2_000),
    idle(10_000),
    handshake(1_000),
    deflate("recv", 1200, 10_000),
    deflate("recv", 64 * KiB, 2_000),
    deflate("send", 1200, 5_000),
    deflate("send", 64 * KiB, 800),
    recvDefaults("iterator", "binary", 16, 2_000_000),
    recvDefaults("events", "binary", 16, 2_000_000),
    recvDefaults("events", "binary", 16, 2_000_000, true),
    recvDefaults("iterator", "binary", KiB, 400_000),
    recvDefaults("events", "binary", KiB, 400_000),
    recvDefaults("iterator", "utf8", KiB, 100_000),
    recvDefaults("events", "utf8", KiB, 100_000),
    cold("recv", 1_000),
    cold("send-deflate", 1_000),
    idle(2_000, true),
    recvStream(64 * MiB, 8),
    slowConsumer(false, 150, 50_000),
    slowConsumer(true, 150, 50_000),
  ];
}

/** A subset with small budgets, for development: the whole run takes well under 2 minutes. */
export function quickScenarios(): Scenario[] {
  return [
    recv(16, 300_000),
    recv(64 * KiB, 2_000),
    recv(KiB, 20_000, true),
    send(16, 30_000),
    send(64 * KiB, 2_000),
    sendStream(64 * MiB, 64 * KiB, 2),
    echo(2_000, 1_000), // the full warm-up: with 200 rounds, p50 was 4x the full run's
    idle(2_000),
    handshake(200),
    deflate("recv", 1200, 3_000),
    deflate("recv", 64 * KiB, 400),
    deflate("send", 1200, 2_000),
    deflate("send", 64 * KiB, 200),
    recvDefaults("iterator", "binary", 16, 300_000),
    recvDefaults("events", "binary", 16, 300_000),
    recvDefaults("events", "binary", 16, 300_000, true),
    recvDefaults("iterator", "binary", KiB, 100_000),
    recvDefaults("events", "binary", KiB, 100_000),
    recvDefaults("iterator", "utf8", KiB, 20_000),
    cold("recv", 1_000),
    cold("send-deflate", 1_000),
    idle(2_000, true),
    slowConsumer(false, 150, 50_000),
    slowConsumer(true, 150, 50_000),
  ];
}
