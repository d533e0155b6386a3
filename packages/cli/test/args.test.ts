import { describe, expect, it } from "vitest";
import { type CliOptions, parseArgs } from "../src/args.js";

/** Parses argv; returns the options, or the exit code and what was printed. */
function parse(...argv: string[]) {
  let out = "";
  let err = "";
  const parsed = parseArgs(
    argv,
    (s) => (out += s),
    (s) => (err += s),
  );
  return {
    parsed,
    out,
    err,
    options: parsed.type === "run" ? parsed.options : (undefined as unknown as CliOptions),
  };
}

describe("parseArgs", () => {
  it("gives the defaults for a bare URL", () => {
    const { options } = parse("ws://h/");
    expect(options).toMatchObject({
      url: "ws://h/",
      headers: [],
      subprotocols: [],
      compress: true,
      reconnect: undefined,
      heartbeat: undefined,
      encoding: "base64",
      decodeInput: false,
      send: [],
      host: "127.0.0.1",
      listen: undefined,
    });
  });

  it("collects repeatable options and converts seconds to ms", () => {
    const { options } = parse(
      "-H",
      "Cookie: a=b; c=d",
      "--header",
      "X-Empty:",
      "--subprotocol",
      "a",
      "--subprotocol",
      "b",
      "--send",
      "1",
      "--send",
      "2",
      "--heartbeat",
      "0.25",
      "--timeout",
      "1.5",
      "--wait",
      "0",
      "--hex",
      "--no-compress",
      "--no-reconnect",
      "ws://h/",
    );
    expect(options).toMatchObject({
      headers: [
        ["Cookie", "a=b; c=d"],
        ["X-Empty", ""],
      ],
      subprotocols: ["a", "b"],
      send: ["1", "2"],
      heartbeat: 250,
      timeout: 1500,
      wait: 0,
      encoding: "hex",
      decodeInput: true,
      compress: false,
      reconnect: false,
    });
    expect(parse("--reconnect", "ws://h/").options.reconnect).toBe(true);
    expect(parse("--listen", "0", "--echo").options).toMatchObject({ listen: 0, echo: true, url: undefined });
  });

  it.each([
    [["--count", "0", "ws://h/"], /--count must be an integer from 1/],
    [["--count", "1.5", "ws://h/"], /--count must be an integer/],
    [["--listen", "65536"], /--listen must be an integer from 0 to 65535/],
    [["--timeout", "0", "ws://h/"], /--timeout must be a number of seconds above 0/],
    [["--heartbeat", "-1", "ws://h/"], /--heartbeat must be a number of seconds/],
    [["--max-payload", "1e3", "ws://h/"], /--max-payload must be an integer/],
    [["-H", "no colon", "ws://h/"], /-H\/--header wants "Name: value"/],
    [["-H", "Bad Name: v", "ws://h/"], /-H\/--header wants "Name: value"/],
    [[], /missing URL \(or --listen <port>\)/],
    [["--listen", "1", "ws://h/"], /either a URL or --listen, not both/],
    [["--broadcast", "ws://h/"], /--echo and --broadcast need --listen/],
    [["--listen", "1", "--echo", "--broadcast"], /--echo or --broadcast, not both/],
    [["--hex", "--base64", "ws://h/"], /--base64 or --hex, not both/],
    [["--cert", "c.pem", "wss://h/"], /--cert and --key go together/],
    [["--nope", "ws://h/"], /unknown option '--nope'/],
    [["ws://a/", "ws://b/"], /too many arguments/],
    [["--count"], /option '--count <n>' argument missing/],
  ])("refuses %j with exit code 2 and one line", (argv, message) => {
    const { parsed, err, out } = parse(...argv);
    expect(parsed).toEqual({ type: "exit", code: 2 });
    expect(err).toMatch(message);
    expect(err).toMatch(/^tideway: .* \(see --help\)\n$/);
    expect(out).toBe("");
  });

  it("prints help and version on stdout with exit code 0", () => {
    const help = parse("--help");
    expect(help.parsed).toEqual({ type: "exit", code: 0 });
    expect(help.out).toMatch(/^Usage: tideway \[options\] <url>/);
    expect(help.out).toMatch(/--listen 8080 --echo/);
    const version = parse("-V");
    expect(version.parsed).toEqual({ type: "exit", code: 0 });
    expect(version.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
