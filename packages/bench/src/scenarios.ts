// The scenarios of issue 7 and their budgets. Budgets are sized so that `ws` needs about a second
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
}

export type Scenario =
  | (Base & { readonly kind: "recv"; readonly size: number; readonly count: number; readonly text: boolean })
  | (Base & { readonly kind: "send"; readonly size: number; readonly count: number })
  | (Base & { readonly kind: "echo"; readonly size: number; readonly count: number; readonly warmup: number })
  | (Base & { readonly kind: "idle"; readonly connections: number })
  | (Base & { readonly kind: "handshake"; readonly count: number })
  // permessage-deflate (RFC 7692) with JSON messages of `size` bytes: the server negotiates it
  // (context takeover on both sides, 15-bit windows) and refuses a client that does not offer it;
  // every message crosses compressed (RSV1), and is verified after inflating.
  | (Base & { readonly kind: "recv-deflate"; readonly size: number; readonly count: number })
  | (Base & { readonly kind: "send-deflate"; readonly size: number; readonly count: number });

const KiB = 1024;
const MiB = 1024 * KiB;

const MSG_RATE: readonly Metric[] = [{ key: "rate", unit: "msg/s", better: "higher" }];
const BYTE_RATE: readonly Metric[] = [{ key: "throughput", unit: "MB/s", better: "higher" }];

function sizeLabel(size: number): string {
  if (size % KiB !== 0) return `${size} B`;
  return size >= MiB ? `${size / MiB} MiB` : size >= KiB ? `${size / KiB} KiB` : `${size} B`;
}

function recv(size: number, count: number, text = false): Scenario {
  return {
    id: `recv-${text ? "text" : "binary"}-${size}`,
    title: `receive ${sizeLabel(size)} ${text ? "text (as strings)" : "binary"}`,
    kind: "recv",
    size,
    count,
    text,
    metrics: size < KiB ? MSG_RATE : BYTE_RATE,
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

function idle(connections: number): Scenario {
  return {
    id: `idle-${connections}`,
    title: `idle memory per connection (${connections / 1000}k)`,
    kind: "idle",
    connections,
    metrics: [
      { key: "heap", unit: "KiB/conn", better: "lower" },
      { key: "rss", unit: "KiB/conn", better: "lower" },
    ],
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

/** The full suite (issue 7, item 1). */
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
    echo(20_000, 1_000),
    idle(2_000),
    idle(10_000),
    handshake(1_000),
    deflate("recv", 1200, 10_000),
    deflate("recv", 64 * KiB, 2_000),
    deflate("send", 1200, 5_000),
    deflate("send", 64 * KiB, 800),
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
    echo(2_000, 1_000), // the full warm-up: with 200 rounds, p50 was 4x the full run's
    idle(2_000),
    handshake(200),
    deflate("recv", 1200, 3_000),
    deflate("recv", 64 * KiB, 400),
    deflate("send", 1200, 2_000),
    deflate("send", 64 * KiB, 200),
  ];
}
