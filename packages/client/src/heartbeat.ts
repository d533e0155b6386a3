import { type Clock, systemClock, type TimerHandle } from "./clock.js";

/** A heartbeat time that is not scheduled (times are whole milliseconds, never negative). */
const NOT_DUE = -1;

/** What waits on a heartbeat wheel: a Heartbeat, or a connection waiting for its first tick. */
export interface HeartbeatWheelMember {
  /** `now` reached the member's slot; it is out of the wheel until it adds itself again. */
  wake(now: number): void;
}

/** The outstanding list of a heartbeat that never pinged: shared, never written to. */
const NONE_OUTSTANDING: Outstanding[] = [];

/**
 * One timer for every heartbeat on a clock, instead of a tick and a deadline timer each: a held
 * Node timer with its closures was most of the heartbeat's ~0.85 KiB per idle connection (idle
 * heap, 2 000 connections). Members wait in slots keyed by due time (whole milliseconds, so
 * connections opened together share slots); the one clock timer is armed for the earliest slot,
 * and when it fires that slot is due, whatever `now()` says (a timer that fired is due, as with
 * one timer each).
 */
export class HeartbeatWheel {
  readonly #clock: Clock;
  /** One member alone, or those due in the same slot: a Set per slot would cost more than the member. */
  readonly #slots = new Map<number, HeartbeatWheelMember | HeartbeatWheelMember[]>();
  #timer: TimerHandle | undefined;
  #armedAt = Number.POSITIVE_INFINITY;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Wakes `member` once the clock reaches `slot` (whole milliseconds on the clock). */
  add(member: HeartbeatWheelMember, slot: number): void {
    const held = this.#slots.get(slot);
    if (held === undefined) this.#slots.set(slot, member);
    else if (Array.isArray(held)) held.push(member);
    else this.#slots.set(slot, [held, member]);
    if (slot < this.#armedAt) this.#arm(slot);
  }

  /** Takes `member` out of `slot`, where `add` put it. */
  remove(member: HeartbeatWheelMember, slot: number): void {
    const held = this.#slots.get(slot);
    if (Array.isArray(held)) {
      const index = held.indexOf(member);
      if (index >= 0) held.splice(index, 1);
      if (held.length > 0) return;
    } else if (held !== member) return;
    this.#slots.delete(slot);
    // The earliest slot emptied: re-arm for the next one, or clear the timer when none is left.
    if (slot === this.#armedAt) this.#arm(this.#earliest());
  }

  #earliest(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const slot of this.#slots.keys()) if (slot < earliest) earliest = slot;
    return earliest;
  }

  #arm(slot: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = slot;
    if (slot === Number.POSITIVE_INFINITY) return;
    this.#timer = this.#clock.setTimeout(this.#run, slot - this.#clock.now());
  }

  #run = (): void => {
    const armedAt = this.#armedAt;
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const clockNow = this.#clock.now();
    const now = Math.max(clockNow, armedAt);
    const due: number[] = [];
    for (const slot of this.#slots.keys()) if (slot <= now) due.push(slot);
    due.sort((a, b) => a - b);
    for (const slot of due) {
      const held = this.#slots.get(slot);
      this.#slots.delete(slot);
      if (held === undefined) continue;
      if (Array.isArray(held)) for (const member of held) this.#wake(member, now);
      else this.#wake(held, now);
    }
    const next = this.#earliest();
    if (next < this.#armedAt) this.#arm(next);
  };

  #wake(member: HeartbeatWheelMember, now: number): void {
    try {
      member.wake(now);
    } catch (err) {
      // One member's failure (its sendPing threw) must not stop the other heartbeats.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

const wheels = new WeakMap<Clock, HeartbeatWheel>();

/** The wheel of `clock`, made on first use. */
export function wheelOf(clock: Clock): HeartbeatWheel {
  let wheel = wheels.get(clock);
  if (wheel === undefined) {
    wheel = new HeartbeatWheel(clock);
    wheels.set(clock, wheel);
  }
  return wheel;
}

/** The keepalive pings: how often, and how long to wait for an answer (docs/client.md, "Heartbeat"). */
export interface HeartbeatOptions {
  /**
   * Milliseconds between two heartbeat pings. `0` or `Infinity` sends none (explicit `ping()` calls
   * still work and still arm the dead-peer deadline).
   */
  interval: number;
  /**
   * Milliseconds to wait, after a ping, for a pong or any other sign of life before declaring the peer
   * dead. `0` or `Infinity` never declares it dead.
   */
  timeout: number;
}

/**
 * Heartbeat defaults: a ping every 30 s when idle is below the usual 60 s idle timeouts of proxies and
 * load balancers (nginx `proxy_read_timeout`, AWS ALB); 10 s to answer tolerates a busy server while
 * still noticing a dead peer within 40 s. Pure, so a bundle that does not use it drops it.
 */
export const DEFAULT_HEARTBEAT: HeartbeatOptions = /* @__PURE__ */ Object.freeze({
  interval: 30_000,
  timeout: 10_000,
});

/**
 * At most this many `ping()` calls may wait for their pong at once; the next one is rejected with a
 * `RangeError` and sends nothing. Rejecting the newest (rather than dropping the oldest) tells the
 * caller who floods, at once, and never fails a promise someone else is awaiting; and a ping that is
 * refused is never written, so a ping flood cannot grow the write queue.
 * Heartbeat pings come on top: at most one is outstanding.
 */
export const MAX_OUTSTANDING_USER_PINGS = 16;

/** Length of a ping payload: a 4-byte per-instance nonce, then a 4-byte sequence number. */
const PAYLOAD_LENGTH = 8;

interface Outstanding {
  readonly seq: number;
  readonly sentAt: number;
  /** Present for `ping()` calls; absent for heartbeat pings. */
  readonly settle?: { resolve(rtt: number): void; reject(err: Error): void };
  /** The caller's own payload (`ping(data)`): its pong is the one that echoes it. */
  readonly data?: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

type State = "idle" | "running" | "dead" | "stopped";

/**
 * Keepalive: pings the peer every `interval`, measures the round trip, and calls `onDead` once when
 * nothing proves the peer alive within `timeout` after a ping.
 *
 * Pure policy and timers: it never touches a socket. The connection calls `sendPing` to write the
 * frame, and feeds back `onPong(payload)` for every pong, `onActivity()` for every chunk read, and
 * `pause()`/`resume()` when it stops/starts reading for backpressure. `sendPing` must not throw from a
 * heartbeat tick (the connection should `stop()` the heartbeat before its protocol refuses writes);
 * an exception there propagates out of the timer.
 *
 * Each ping's payload identifies it (a per-instance nonce and a sequence number), so a pong is matched
 * to its ping and the latency is measured from that ping. "If an endpoint receives a Ping frame and
 * has not yet sent Pong frame(s) in response to previous Ping frame(s), the endpoint MAY elect to send
 * a Pong frame for only the most recently processed Ping frame" (RFC 6455 section 5.5.3), so a pong
 * acknowledges its ping AND every earlier one.
 */
export class Heartbeat {
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #timeout: number;
  readonly #sendPing: (payload: Uint8Array) => void;
  readonly #onDead: (elapsedMs: number) => void;
  /**
   * Tells our pongs from unsolicited ones that happen to carry an 8-byte payload. 30 bits: a small
   * integer, stored in the object, where a 32-bit one would be a 16-byte heap number per connection.
   */
  readonly #nonce = Math.floor(Math.random() * 2 ** 30);
  #nextSeq = 0;
  /** Pings waiting for a pong, in the order they were sent (so "earlier" is "lower index"). */
  #outstanding: Outstanding[] = NONE_OUTSTANDING;
  #userPings = 0;
  #state: State = "idle";
  #stopReason: Error | undefined;
  #paused = false;
  /** A ping was sent and nothing has proved the peer alive since. */
  #awaiting = false;
  #deadlineStart = 0;
  /**
   * When the next heartbeat ping and the dead-peer deadline are due, NOT_DUE if not scheduled. Times
   * here are whole milliseconds (rounded up): small integers stay in the object, where fractional
   * ones would each be a 16-byte heap number per connection.
   */
  #tickDue = NOT_DUE;
  #deadlineDue = NOT_DUE;
  readonly #wheel: HeartbeatWheel;
  /** The wheel slot this heartbeat waits in, if any. */
  #slot: number | undefined;
  #latency: number | undefined;

  constructor(
    o: HeartbeatOptions & {
      clock?: Clock;
      sendPing: (payload: Uint8Array) => void;
      onDead: (elapsedMs: number) => void;
    },
  ) {
    if (!(o.interval >= 0)) throw new RangeError(`Heartbeat interval must be >= 0, got ${o.interval}`);
    if (!(o.timeout >= 0)) throw new RangeError(`Heartbeat timeout must be >= 0, got ${o.timeout}`);
    this.#clock = o.clock ?? systemClock;
    this.#wheel = wheelOf(this.#clock);
    this.#interval = o.interval;
    this.#timeout = o.timeout;
    this.#sendPing = o.sendPing;
    this.#onDead = o.onDead;
  }

  /** The round trip of the last pong that matched a ping, in ms; undefined until one arrives. */
  get latency(): number | undefined {
    return this.#latency;
  }

  /** Pings (heartbeat and `ping()`) waiting for a pong. Bounded by 1 + {@link MAX_OUTSTANDING_USER_PINGS}. */
  get outstandingPings(): number {
    return this.#outstanding.length;
  }

  /**
   * Starts the periodic pings; the first goes out after one `interval` (the handshake that just
   * completed proved the peer alive). Calling it again while running does nothing. A stopped or dead
   * heartbeat cannot restart: create one per connection.
   */
  start(): void {
    if (this.#state === "running") return;
    if (this.#state !== "idle") throw new Error(`Heartbeat cannot restart once ${this.#state}`);
    this.#state = "running";
    if (!this.#paused) this.#scheduleTick();
  }

  /**
   * Starts a heartbeat made late, by an owner that kept the first interval itself (so that an idle
   * connection holds no Heartbeat): `firstTick` is when the first ping is due, on the clock;
   * `"now"` sends it at once. Otherwise as {@link start}.
   */
  startLate(firstTick: number | "now"): void {
    if (this.#state !== "idle") throw new Error(`Heartbeat cannot restart once ${this.#state}`);
    this.#state = "running";
    if (this.#paused) return;
    if (firstTick === "now") this.#tick();
    else if (this.#interval !== 0 && Number.isFinite(this.#interval)) {
      this.#tickDue = firstTick;
      this.#reschedule();
    }
  }

  /**
   * Clears every timer and rejects every pending `ping()` with `reason` (the connection passes its
   * typed close error), or a plain Error. Idempotent: later calls do nothing.
   */
  stop(reason?: Error): void {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#stopReason = reason ?? new Error("Heartbeat stopped");
    this.#clearDeadline();
    this.#clearTick();
    const pending = this.#outstanding.splice(0);
    this.#userPings = 0;
    for (const p of pending) p.settle?.reject(this.#stopReason);
  }

  /**
   * Feeds a pong. A pong whose payload is not one of our outstanding pings is ignored ("A Pong frame
   * MAY be sent unsolicited. [...] A response to an unsolicited Pong frame is not expected", RFC 6455
   * section 5.5.3): it neither acknowledges a ping nor updates the latency. A matching pong
   * acknowledges its ping and all earlier ones, resolves their `ping()` promises with its round trip,
   * and proves the peer alive.
   */
  onPong(payload: Uint8Array): void {
    if (this.#state !== "running") return;
    const seq = this.#parse(payload);
    const index =
      seq === undefined
        ? this.#outstanding.findIndex((p) => p.data !== undefined && sameBytes(p.data, payload))
        : this.#outstanding.findIndex((p) => p.seq === seq && p.data === undefined);
    if (index < 0) return;
    const matched = this.#outstanding[index]!;
    const rtt = this.#clock.now() - matched.sentAt;
    this.#latency = rtt;
    // Earlier pings are resolved with the round trip of the one that matched: their own pongs were
    // folded into this one, and the time since THEY were sent would overstate the network latency.
    const acked = this.#outstanding.splice(0, index + 1);
    for (const p of acked) {
      if (p.settle) {
        this.#userPings--;
        p.settle.resolve(rtt);
      }
    }
    this.#proofOfLife();
  }

  /**
   * Call for every chunk read from the socket. Any data received proves the peer alive, like a pong:
   * a peer busy sending a large message may have its pong queued behind a data frame that takes longer
   * than `timeout` to arrive on a slow link, and declaring it dead while its bytes are streaming in
   * would break a healthy connection. Only silence after a ping is death. Cheap when nothing waits.
   */
  onActivity(): void {
    if (this.#awaiting) this.#proofOfLife();
  }

  /**
   * The connection stopped reading the socket (backpressure): pongs can no longer be seen, so the
   * dead-peer deadline and the periodic pings are suspended. A healthy but slow consumer is never
   * declared dead.
   */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#clearDeadline();
    this.#clearTick();
  }

  /**
   * Reading resumed: if a ping is still unanswered, its deadline restarts fresh (a full `timeout` from
   * now: the pong may be sitting unread in the socket buffer), and the periodic pings resume.
   */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#state !== "running") return;
    if (this.#awaiting) this.#armDeadline();
    this.#scheduleTick();
  }

  /**
   * Sends a ping now and resolves with the round trip in ms when its pong (or the pong of a later
   * ping, which acknowledges it) arrives. Rejects at once if the heartbeat is not running (not started,
   * stopped: with the stop reason, or the peer was declared dead), with a RangeError if
   * {@link MAX_OUTSTANDING_USER_PINGS} pings are already waiting, or with what `sendPing` threw.
   * Later rejects with the stop reason if `stop()` is called first. Works while paused: the pong is
   * read after `resume()`. `data` (at most 125 bytes, kept, not copied) replaces the heartbeat's own
   * payload: the pong that echoes it answers this ping.
   */
  ping(data?: Uint8Array): Promise<number> {
    if (this.#state !== "running") {
      return Promise.reject(
        this.#state === "stopped" && this.#stopReason
          ? this.#stopReason
          : new Error(`Cannot ping: heartbeat is ${this.#state}`),
      );
    }
    if (this.#userPings >= MAX_OUTSTANDING_USER_PINGS) {
      return Promise.reject(
        new RangeError(`Too many pings waiting for a pong (${MAX_OUTSTANDING_USER_PINGS})`),
      );
    }
    return new Promise<number>((resolve, reject) => {
      const entry: Outstanding = this.#newEntry({ resolve, reject }, data);
      this.#userPings++;
      this.#track(entry);
      try {
        this.#sendPing(data ?? this.#payload(entry.seq));
      } catch (err) {
        this.#outstanding.splice(this.#outstanding.indexOf(entry), 1);
        this.#userPings--;
        reject(err);
        return;
      }
      this.#afterSend();
    });
  }

  #newEntry(settle?: Outstanding["settle"], data?: Uint8Array): Outstanding {
    const seq = this.#nextSeq;
    this.#nextSeq = (this.#nextSeq + 1) >>> 0;
    if (data !== undefined) return { seq, sentAt: this.#clock.now(), settle, data };
    return settle ? { seq, sentAt: this.#clock.now(), settle } : { seq, sentAt: this.#clock.now() };
  }

  /**
   * Called by the clock's wheel once `now` reached this heartbeat's slot: the deadline first (as a
   * deadline timer set before the tick timer would have run first), then the tick.
   */
  wake(now: number): void {
    this.#slot = undefined;
    if (this.#deadlineDue !== NOT_DUE && this.#deadlineDue <= now) {
      this.#deadlineDue = NOT_DUE;
      this.#expire();
    }
    if (this.#tickDue !== NOT_DUE && this.#tickDue <= now) {
      this.#tickDue = NOT_DUE;
      this.#tick();
    }
    this.#reschedule();
  }

  #tick(): void {
    if (this.#state !== "running" || this.#paused) return;
    // One heartbeat ping in flight is enough: while it (or a user ping) is unanswered and nothing
    // else was heard, another ping tells nothing more, and the deadline already runs.
    if (!this.#awaiting) this.#sendHeartbeatPing();
    this.#scheduleTick();
  }

  #sendHeartbeatPing(): void {
    // A previous heartbeat ping still here was superseded by other proof of life; drop it so at most
    // one heartbeat ping is ever outstanding (its late pong is then ignored as unknown, or the new
    // ping's pong acknowledges it anyway).
    const previous = this.#outstanding.findIndex((p) => p.settle === undefined);
    if (previous >= 0) this.#outstanding.splice(previous, 1);
    const entry = this.#newEntry();
    this.#track(entry);
    this.#sendPing(this.#payload(entry.seq));
    this.#afterSend();
  }

  #afterSend(): void {
    // The earliest unanswered ping governs the deadline: a later ping does not push it back.
    if (this.#awaiting) return;
    this.#awaiting = true;
    if (!this.#paused) this.#armDeadline();
  }

  #armDeadline(): void {
    if (this.#timeout === 0 || !Number.isFinite(this.#timeout)) {
      this.#clearDeadline();
      return;
    }
    this.#deadlineStart = Math.ceil(this.#clock.now());
    this.#deadlineDue = this.#deadlineStart + Math.ceil(this.#timeout);
    this.#reschedule();
  }

  #expire(): void {
    if (this.#state !== "running" || this.#paused) return;
    this.#state = "dead";
    this.#clearTick();
    this.#onDead(this.#clock.now() - this.#deadlineStart);
  }

  #proofOfLife(): void {
    this.#awaiting = false;
    this.#clearDeadline();
  }

  #scheduleTick(): void {
    if (this.#interval === 0 || !Number.isFinite(this.#interval)) {
      this.#clearTick();
      return;
    }
    this.#tickDue = Math.ceil(this.#clock.now() + this.#interval);
    this.#reschedule();
  }

  #clearDeadline(): void {
    if (this.#deadlineDue === NOT_DUE) return;
    this.#deadlineDue = NOT_DUE;
    this.#reschedule();
  }

  #clearTick(): void {
    if (this.#tickDue === NOT_DUE) return;
    this.#tickDue = NOT_DUE;
    this.#reschedule();
  }

  /** Moves this heartbeat to the wheel slot of its earliest due time (or out of the wheel). */
  #reschedule(): void {
    const tick = this.#tickDue;
    const deadline = this.#deadlineDue;
    const slot =
      tick === NOT_DUE
        ? deadline === NOT_DUE
          ? undefined
          : deadline
        : deadline === NOT_DUE
          ? tick
          : Math.min(tick, deadline);
    if (slot === this.#slot) return;
    if (this.#slot !== undefined) this.#wheel.remove(this, this.#slot);
    this.#slot = slot;
    if (slot !== undefined) this.#wheel.add(this, slot);
  }

  /** Adds a ping to the outstanding list (made on the first ping: most idle connections hold none). */
  #track(entry: Outstanding): void {
    if (this.#outstanding === NONE_OUTSTANDING) this.#outstanding = [];
    this.#outstanding.push(entry);
  }

  #payload(seq: number): Uint8Array {
    const bytes = new Uint8Array(PAYLOAD_LENGTH);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.#nonce);
    view.setUint32(4, seq);
    return bytes;
  }

  /** The sequence number a pong payload carries, or undefined if it is not one of ours. */
  #parse(payload: Uint8Array): number | undefined {
    if (payload.byteLength !== PAYLOAD_LENGTH) return undefined;
    const view = new DataView(payload.buffer, payload.byteOffset, PAYLOAD_LENGTH);
    if (view.getUint32(0) !== this.#nonce) return undefined;
    return view.getUint32(4);
  }
}
