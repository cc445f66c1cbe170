/**
 * `WebSocket`: RFC 6455 messages over any weft duplex stream (a TCP or TLS
 * connection after an HTTP upgrade, a proxy tunnel, an in-memory pipe).
 *
 * No background task: the task that reads (a `recv`, a message's reader, a
 * `ping` waiting for its pong, a `close` waiting for the peer's CLOSE) is the
 * one that reads frames from the transport, and it answers the PINGs and the
 * CLOSE it meets on the way. Frame writes are serialised by a lock, so such
 * an answer never lands in the middle of a frame another task is writing.
 */
import { budgetYield, overBudget } from "../core/budget.ts";
import { Cancelled, WeftUsageError } from "../core/errors.ts";
import { DONE_VOID, asOperation, describe, type Operation } from "../core/operation.ts";
import { protectFromCancel } from "../core/cancel.ts";
import { withTimeoutOpt } from "../group/timeout.ts";
import { Mutex } from "../sync/mutex.ts";
import { CondVar } from "../sync/cond_var.ts";
import { allocBytes, wireBytes } from "../io/byte_pool.ts";
import { ByteWindow } from "../io/byte_window.ts";
import { endRawRead, endRawWrite, rawRead, rawWrite, readerNow, writerNow } from "../io/direct.ts";
import { plainView } from "../io/plain_view.ts";
import { decodeUtf8 } from "../io/data.ts";
import { ReaderBase, type Reader } from "../io/reader.ts";
import { current } from "../core/scheduler.ts";
import { NO_RETURN, WriterBase, dropsCancelledWrites, toBytes, writeHandedOver, type Writer } from "../io/writer.ts";
import { ConnectionClosed, ProtocolError } from "./errors.ts";
import { FastOperation } from "./fast_operation.ts";
import {
  MAX_CONTROL_PAYLOAD,
  Opcode,
  type ClosePayload,
  applyMask,
  encodeClosePayload,
  headerSize,
  isControlOpcode,
  isKnownOpcode,
  parseClosePayload,
  writeHeader,
} from "./frame.ts";
import { resolveWebSocketOptions, type ResolvedWebSocketOptions, type WebSocketOptions } from "./options.ts";
import { fillRandom, requireRandom } from "./random.ts";
import { Utf8Validator } from "./utf8.ts";

/**
 * What a {@link WebSocket} runs over: a weft duplex stream. `close()` ends it
 * gracefully (written bytes drain); `abort()`, where the stream has one,
 * drops it at once.
 */
export type WebSocketTransport = Reader & Writer & { close(): void; abort?(): void };

/**
 * A received message: its kind and its payload as a weft `Reader` (the
 * fragments joined, read from the transport only as fast as the reader is
 * read). The reader ends at the end of the message; it ends early if a later
 * `recv()` discarded the unread rest.
 */
export interface WebSocketMessage {
  /** "text" (UTF-8, checked as it arrives) or "binary". */
  readonly kind: "text" | "binary";
  /** The payload. */
  readonly reader: Reader;
}

/**
 * A message being sent in pieces, from {@link WebSocket.startMessage}: each
 * `write` goes out as one or more frames at once, `end()` sends the final
 * frame. No other data message is sent until it ends (control frames may go
 * between its frames). Closing it (or leaving its `using` block) before
 * `end()` after some of it was sent cuts the message off: the connection is
 * then failed with 1011, as when a write of it is cancelled.
 */
export interface WebSocketMessageWriter extends Writer {
  /** Sends the final frame of the message. */
  end(): Operation<void>;
  /** Gives the message up: nothing more is sent; if some was, the connection fails with 1011. */
  close(): void;
  /** As `close()`. */
  [Symbol.dispose](): void;
}

/** One frame is written with one `transport.write` up to this size. */
const WRITE_PIECE = 64 * 1024;
/** The most bytes a discarding read asks for at a time. */
const DISCARD_PIECE = 64 * 1024;
const EMPTY = new Uint8Array(0);
/** What {@link WebSocket}'s whole-frame fast path found at the front of its input: more bytes are due, or the general path must read it. */
const MORE = 0;
const SLOW = 1;
/**
 * A whole-frame payload up to this size is copied out of the input into a
 * fresh array (unmasked on the way) instead of handed out as a view: V8
 * keeps an array this small on the JavaScript heap, which is cheaper to make
 * than a view, and a copy needs no plain-array view of the transport's chunk.
 */
const COPY_MAX = 64;
/** What {@link WebSocket.#textProblem} says of a valid text message, and of one that ends inside a UTF-8 sequence. */
const TEXT_OK = -1;
const TEXT_CUT = -2;

/** Mask keys come from a pool of random bytes, refilled 4 KiB at a time, so a frame costs no call into the crypto API. */
const keyPool = new Uint8Array(4096);
let keyPoolUsed = keyPool.length;
function nextMaskKey(): Uint8Array {
  if (keyPoolUsed === keyPool.length) {
    fillRandom(keyPool, "WebSocket");
    keyPoolUsed = 0;
  }
  const key = keyPool.subarray(keyPoolUsed, keyPoolUsed + 4);
  keyPoolUsed += 4;
  return key;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return s;
}

/** The payload of one message, read frame by frame through its WebSocket. */
class MessageReader extends ReaderBase {
  #closed = false;
  constructor(private readonly source: (sizeHint: number) => Operation<Uint8Array | undefined>) {
    super();
  }
  protected readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    return this.source(sizeHint);
  }
  protected get isClosed(): boolean {
    return this.#closed;
  }
  /** Stops reading this message (the next `recv()` discards its rest). */
  close(): void {
    this.#closed = true;
  }
}

/** How the WebSocket lets a message writer send frames and fail the connection. */
interface MessageSink {
  frame(opcode: number, fin: boolean, data: Uint8Array, start: number, end: number): Operation<void>;
  cutOff(): Operation<void>;
  cutOffLater(): void;
  release(): void;
  readonly transport: WebSocketTransport;
}

class MessageWriter extends WriterBase implements WebSocketMessageWriter {
  #started = false;
  #done = false;
  constructor(
    private readonly sink: MessageSink,
    private readonly opcode: number,
  ) {
    super();
  }

  get cancelledWrite(): "queued" | "dropped" {
    return this.sink.transport.cancelledWrite ?? "queued";
  }

  protected *writeChunk(bytes: Uint8Array): Operation<void> {
    // Pieces of at most WRITE_PIECE bytes, each one frame written at once, so a
    // cancelled write leaves whole frames behind.
    for (let start = 0; start < bytes.length; start += WRITE_PIECE) {
      const end = Math.min(bytes.length, start + WRITE_PIECE);
      yield* this.#frame(false, bytes, start, end);
    }
  }

  *#frame(fin: boolean, bytes: Uint8Array, start: number, end: number): Operation<void> {
    try {
      yield* this.sink.frame(this.#started ? Opcode.Continuation : this.opcode, fin, bytes, start, end);
      this.#started = true;
    } catch (error) {
      // A frame whose cancelled write the transport queued still goes out.
      const maybeSent = error instanceof Cancelled && !dropsCancelledWrites(this.sink.transport);
      if (this.#started || maybeSent) {
        this.#done = true;
        this.sink.release();
        yield* this.sink.cutOff();
      }
      throw error;
    }
  }

  *end(): Operation<void> {
    if (this.#done) throw new WeftUsageError("end(): the message was already ended or given up");
    yield* this.#frame(true, EMPTY, 0, 0);
    this.#done = true;
    this.sink.release();
  }

  protected get isClosed(): boolean {
    return this.#done;
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.sink.release();
    if (this.#started) this.sink.cutOffLater();
  }
}

/**
 * A WebSocket connection (RFC 6455) over a weft duplex stream: messages
 * whose payloads stream as weft `Reader`s, PINGs answered by whichever task
 * is reading, and the close handshake as an operation.
 *
 * Made by `acceptWebSocket` (server) and `connectWebSocket` (client) after
 * the HTTP handshake; the constructor is for those and for tests, which join
 * two of them with in-memory pipes. Client frames are masked with a fresh
 * random key each, server frames are not, and each side fails the
 * connection with 1002 when the peer gets this wrong.
 *
 * Extensions are not supported yet: `permessage-deflate`, which browsers
 * offer by default, is declined in the handshake, and a frame with an RSV bit
 * set fails the connection with 1002.
 *
 * Reading: one task at a time calls `recv` (or `recvText`/`recvBytes`) and
 * reads the message's reader. Any task may `ping` or `close` meanwhile.
 * Writing: `sendText`, `sendBinary` and `startMessage` queue behind each
 * other (one data message at a time); PONG and CLOSE frames go between.
 *
 * @example
 * ```ts
 * const [a, b] = pipe();
 * const [c, d] = pipe();
 * // Two ends of a duplex made of two pipes (a socket stands here in real code).
 * const serverSide = Object.assign(a, { write: d.write.bind(d), writeReader: d.writeReader.bind(d), close: () => { a.close(); d.close(); } });
 * const clientSide = Object.assign(c, { write: b.write.bind(b), writeReader: b.writeReader.bind(b), close: () => { c.close(); b.close(); } });
 * const server = new WebSocket(serverSide, "server");
 * const client = new WebSocket(clientSide, "client");
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     const text = yield* server.recvText();
 *     yield* server.sendText(text.toUpperCase());
 *     try {
 *       yield* server.recv();
 *     } catch (e) {
 *       if (e instanceof ConnectionClosed) console.log("closed with", e.code); // prints closed with 1000
 *     }
 *   });
 *   yield* client.sendText("hello");
 *   console.log(yield* client.recvText()); // prints HELLO
 *   yield* client.close();
 * });
 * ```
 */
export class WebSocket {
  /** The negotiated subprotocol, "" when none. */
  readonly protocol: string;
  /** Which end of the connection this is: clients mask their frames. */
  readonly role: "client" | "server";

  readonly #t: WebSocketTransport;
  readonly #opts: ResolvedWebSocketOptions;
  readonly #masks: boolean;

  // Reading. The read lock is held by whichever task reads frames; `#changed` is broadcast when it is released or a pong arrives.
  readonly #readLock = new Mutex();
  /** Bytes read from the transport and not yet parsed: one transport read can carry several frames. */
  readonly #in = new ByteWindow();
  readonly #changed = new CondVar();
  #receiving = false;
  /** A message `recvText`/`recvBytes` was reading when it was cancelled: the next one goes on with it. */
  #whole: WebSocketMessage | null = null;
  // The frame header being read survives a cancelled read: 0 = first two bytes due, 1 = the rest of the header, 2 = a control frame's payload.
  #hdrStage = 0;
  #b0 = 0;
  #b1 = 0;
  #ctlLength = 0;
  readonly #ctlKey = new Uint8Array(4);
  #ctlMasked = false;
  // The data frame being read.
  #frameRemaining = 0;
  #frameFin = true;
  readonly #frameKey = new Uint8Array(4);
  #frameMasked = false;
  #maskPhase = 0;
  // The message being read: active while frames of it remain on the wire; pending until a recv took it.
  #msgActive = false;
  #msgPending = false;
  #msgSeq = 0;
  #msgText = false;
  #msgSize = 0;
  /** How many input bytes the last frame {@link WebSocket.#takeFrame} returned took (header and payload). */
  #taken = 0;
  readonly #utf8 = new Utf8Validator();

  // Pings waiting for their pong, by payload.
  readonly #pings = new Map<string, { done: boolean }>();
  #pingCount = 0;

  // Writing.
  readonly #writeLock = new Mutex();
  readonly #messageLock = new Mutex();
  /** A message writer was given up mid-message outside an operation: the next operation fails the connection with 1011. */
  #cutOffDue = false;

  // Closing.
  #closeSent = false;
  #closeReceived: ClosePayload | null = null;
  /** What operations throw once the connection is closed. */
  #closed: ConnectionClosed | null = null;
  #dropped = false;

  /**
   * @internal Made by `acceptWebSocket`/`connectWebSocket` (and tests): the
   * HTTP handshake must have happened on `transport` already.
   *
   * @param transport the stream the frames go over; the WebSocket owns it
   * @param role "server" or "client"
   * @param options limits and the close timeout
   * @param protocol the negotiated subprotocol
   */
  constructor(transport: WebSocketTransport, role: "client" | "server", options?: WebSocketOptions, protocol = "") {
    if (
      transport === null ||
      typeof transport !== "object" ||
      typeof transport.readSome !== "function" ||
      typeof transport.write !== "function" ||
      typeof transport.close !== "function"
    ) {
      throw new TypeError(`WebSocket: transport must be a Reader and a Writer with close(), got ${describe(transport)}`);
    }
    if (role !== "client" && role !== "server") throw new TypeError(`WebSocket: role must be "client" or "server", got ${describe(role)}`);
    if (typeof protocol !== "string") throw new TypeError(`WebSocket: protocol must be a string, got ${describe(protocol)}`);
    // A client masks every frame: find out now, not at its first send, that it cannot.
    if (role === "client") requireRandom("WebSocket");
    this.#opts = resolveWebSocketOptions("WebSocket", options);
    this.#t = transport;
    this.role = role;
    this.protocol = protocol;
    this.#masks = role === "client";
  }

  // ---------------------------------------------------------------- receiving

  /**
   * The next message, its payload streamed as a `Reader`. The unread rest of
   * the previous message is read and discarded first. PINGs met on the way
   * are answered; a CLOSE from the peer is echoed and raises
   * `ConnectionClosed`, as does every later call. A peer's protocol
   * violation fails the connection and raises `ProtocolError`. Cancelling it
   * loses no bytes: a frame header half read is kept for the next read.
   */
  *recv(): Operation<WebSocketMessage> {
    if (this.#receiving) throw new WeftUsageError("recv(): another task is receiving; receive from one task and fan out with a Queue");
    if (this.#cutOffDue) yield* this.#cutOff();
    if (this.#closed !== null) throw this.#closed;
    this.#receiving = true;
    this.#whole = null;
    try {
      yield* this.#readLock.acquire();
      try {
        for (;;) {
          if (this.#msgPending) {
            this.#msgPending = false;
            return this.#message();
          }
          if (this.#msgActive) yield* this.#readPayload(DISCARD_PIECE);
          else yield* this.#pumpOne();
        }
      } finally {
        this.#readLock.release();
        this.#changed.broadcast();
      }
    } finally {
      this.#receiving = false;
    }
  }

  /** A whole message as text (at most `maxMessageSize` bytes; a binary message is decoded as UTF-8). Cancelling it loses nothing: the next call goes on with the same message. */
  recvText(): Operation<string> {
    return asOperation(new WebSocket.#Recv(this, true)) as Operation<string>;
  }

  /** A whole message (binary or text) as bytes. Cancelling it loses nothing: the next call goes on with the same message. */
  recvBytes(): Operation<Uint8Array> {
    return asOperation(new WebSocket.#Recv(this, false)) as Operation<Uint8Array>;
  }

  /** True when no message is part-read, so the next message may be taken whole by {@link WebSocket.#recvMessage}'s fast path. */
  #fastReady(): boolean {
    return (
      this.#whole === null &&
      !this.#receiving &&
      !this.#cutOffDue &&
      this.#closed === null &&
      this.#hdrStage === 0 &&
      !this.#msgActive &&
      !this.#msgPending
    );
  }

  /**
   * `recvText` (`asText`) and `recvBytes`, whole: a message that is one
   * whole data frame (the common case) taken straight from the input or the
   * transport's next chunk, with no message reader. Any other next frame (a
   * control frame, a fragment, a frame over 64 KiB or over the limits, a
   * protocol error) is left where it is, and the general path reads it.
   * Cancelled, the fast path has taken nothing (the bytes read so far stay in
   * the input). {@link WebSocket.#Recv} runs the common case itself and hands
   * every other one to this generator.
   */
  *#recvMessage(asText: boolean): Operation<Uint8Array | string> {
    let frame: Uint8Array | null = null;
    fast: if (this.#fastReady()) {
      // IO entry points check cancellation first, also when the bytes are already here.
      if (current !== null && current.cancelDue) throw new Cancelled();
      // A message already buffered is taken at once, unless the task's budget is spent: it then yields first,
      // having taken nothing (docs/semantics.md, «Cooperative budget»). With nothing buffered, the transport's read spends it.
      if (this.#in.end > this.#in.start && overBudget()) {
        yield* budgetYield();
        // Another task may have read frames meanwhile (a ping() waiting for its pong): the general path reads on.
        if (!this.#fastReady()) break fast;
      }
      if (!this.#readLock.tryAcquire()) break fast;
      this.#receiving = true;
      try {
        for (;;) {
          const got = this.#takeHeld();
          if (got === SLOW) break fast;
          if (got !== MORE) {
            frame = got;
            break;
          }
          let chunk: Uint8Array | undefined;
          try {
            chunk = yield* readerNow(this.#t).readSome();
          } catch (error) {
            if (error instanceof Cancelled) throw error;
            throw this.#lost(error);
          }
          if (chunk === undefined) throw this.#lost(undefined);
          frame = this.#takeChunk(chunk);
          if (frame !== null) break;
        }
        if (this.#msgText) {
          const problem = this.#textProblem(frame);
          if (problem !== TEXT_OK) yield* this.#failText(problem);
        }
      } finally {
        this.#endReceiving();
      }
    }
    if (frame !== null) return asText ? decodeUtf8("Data.text()", frame) : frame;
    return yield* this.#recvGeneral(asText);
  }

  /** A whole message through `recv()` and its reader: every case the whole-frame path leaves. */
  *#recvGeneral(asText: boolean): Operation<Uint8Array | string> {
    const whole = yield* this.#recvWhole();
    return asText ? whole.text() : whole.bytes();
  }

  /** The read lock held for a whole-frame receive is given up. */
  #endReceiving(): void {
    this.#receiving = false;
    this.#readLock.release();
    this.#changed.broadcast();
  }

  /** A whole frame from the input (dropped from it), or MORE or SLOW as from {@link WebSocket.#takeFrame}. */
  #takeHeld(): Uint8Array | typeof MORE | typeof SLOW {
    const input = this.#in;
    const got = this.#takeFrame(input.bytes, input.start, input.end - input.start, true);
    if (got !== MORE && got !== SLOW) input.consume(this.#taken);
    return got;
  }

  /**
   * With nothing held, a small whole frame at the front of `chunk` is taken
   * from the chunk as it came (which then enters the input only for the
   * bytes after the frame); otherwise `chunk` is added to the input and null
   * returned.
   */
  #takeChunk(chunk: Uint8Array): Uint8Array | null {
    const input = this.#in;
    if (input.end === input.start) {
      const got = this.#takeFrame(chunk, 0, chunk.length, false);
      if (got !== MORE && got !== SLOW) {
        if (this.#taken < chunk.length) {
          input.append(plainView(chunk));
          input.consume(this.#taken);
        }
        return got;
      }
    }
    input.append(plainView(chunk));
    return null;
  }

  /** Checks a whole text message: TEXT_OK, the index of the first byte that is not UTF-8, or TEXT_CUT when it ends inside a sequence. */
  #textProblem(frame: Uint8Array): number {
    const bad = this.#utf8.feed(frame);
    if (bad !== -1) return bad;
    return this.#utf8.finish() ? TEXT_OK : TEXT_CUT;
  }

  /** Fails the connection with 1007 for a {@link WebSocket.#textProblem}. */
  *#failText(problem: number): Operation<never> {
    if (problem === TEXT_CUT) return yield* this.#fail(1007, "a text message ends inside a UTF-8 sequence");
    return yield* this.#fail(1007, `invalid UTF-8 in a text message at byte ${problem}`);
  }

  /** {@link WebSocket.#failText} for a whole-frame receive holding the read lock, which it gives up. */
  *#failHeld(problem: number): Operation<never> {
    try {
      return yield* this.#failText(problem);
    } finally {
      this.#endReceiving();
    }
  }

  /**
   * `recvBytes()`/`recvText()` as a hand-written operation. The common case
   * (no message part-read, nothing else reading, the budget not spent with
   * bytes at hand) takes the read lock and runs {@link WebSocket.#recvMessage}'s
   * whole-frame path itself: a resume while it waits for the transport is
   * one call into the transport's read. Every other case, from the start or
   * from a frame the whole-frame path leaves, is handed to a generator.
   */
  static readonly #Recv = class Recv extends FastOperation<Uint8Array | string> {
    /** The transport whose source this operation waits on directly (see `rawRead`), while it does. */
    rawFrom: Reader | null = null;

    constructor(
      readonly ws: WebSocket,
      readonly asText: boolean,
    ) {
      super();
    }

    protected start(): IteratorResult<unknown, Uint8Array | string> {
      const ws = this.ws;
      if (
        !ws.#fastReady() ||
        (current !== null && current.cancelDue) ||
        (ws.#in.end > ws.#in.start && overBudget()) ||
        !ws.#readLock.tryAcquire()
      ) {
        // The generator checks cancellation, yields for the budget and takes the general path as needed.
        return this.delegateTo(ws.#recvMessage(this.asText));
      }
      ws.#receiving = true;
      return this.#fromInput();
    }

    /** With the read lock held: a whole frame from the input, else a read of the transport. */
    #fromInput(): IteratorResult<unknown, Uint8Array | string> {
      const ws = this.ws;
      const got = ws.#takeHeld();
      if (got === MORE) return this.#read();
      if (got !== SLOW) return this.#deliver(got);
      ws.#endReceiving();
      return this.delegateTo(ws.#recvGeneral(this.asText));
    }

    /** Waits for the transport's next chunk: on the source's own read when that is all a `readSome()` would be. */
    #read(): IteratorResult<unknown, Uint8Array | string> {
      const from = readerNow(this.ws.#t);
      let raw: Operation<unknown> | null;
      try {
        raw = rawRead(from);
      } catch (error) {
        throw this.waitFailed(error);
      }
      if (raw === null) return this.wait(from.readSome());
      this.rawFrom = from;
      return this.wait(raw);
    }

    /** Ends a raw read of the transport, if one is under way (see `rawRead`). */
    #endRaw(): void {
      const from = this.rawFrom;
      if (from === null) return;
      this.rawFrom = null;
      endRawRead(from, undefined, false);
    }

    protected waited(result: unknown): IteratorResult<unknown, Uint8Array | string> {
      const ws = this.ws;
      let chunk = result;
      const from = this.rawFrom;
      if (from !== null) {
        this.rawFrom = null;
        try {
          chunk = endRawRead(from, result, true);
        } catch (error) {
          throw this.waitFailed(error);
        }
        // An empty chunk: read again.
        if (chunk === null) return this.#read();
      }
      if (chunk === undefined) {
        const lost = ws.#lost(undefined);
        ws.#endReceiving();
        throw lost;
      }
      const frame = ws.#takeChunk(chunk as Uint8Array);
      return frame !== null ? this.#deliver(frame) : this.#fromInput();
    }

    protected waitFailed(error: unknown): unknown {
      const ws = this.ws;
      this.#endRaw();
      const thrown = error instanceof Cancelled ? error : ws.#lost(error);
      ws.#endReceiving();
      return thrown;
    }

    protected abandon(): void {
      this.#endRaw();
      this.ws.#endReceiving();
    }

    #deliver(frame: Uint8Array): IteratorResult<unknown, Uint8Array | string> {
      const ws = this.ws;
      if (ws.#msgText) {
        const problem = ws.#textProblem(frame);
        // The read lock goes with the rest of the job.
        if (problem !== TEXT_OK) return this.delegateTo(ws.#failHeld(problem));
      }
      ws.#endReceiving();
      return { done: true, value: this.asText ? decodeUtf8("Data.text()", frame) : frame };
    }
  };

  /**
   * Takes a whole unfragmented data frame of at most 64 KiB (header checked
   * as {@link WebSocket.#pumpOne} does, payload unmasked) from
   * `bytes[at..at+size)`, setting {@link WebSocket.#taken} to the bytes it
   * took (the caller drops them from where they are), or says that more
   * bytes are due (MORE) or that the general path must read the frame
   * (SLOW); nothing is taken in those cases. A payload up to COPY_MAX bytes
   * comes back as a copy; a larger one as a view of `bytes`, unmasked in
   * place, which only a plain array held by the input may give (`views`):
   * otherwise it is MORE, and the caller puts the bytes in the input first.
   */
  #takeFrame(bytes: Uint8Array, at: number, size: number, views: boolean): Uint8Array | typeof MORE | typeof SLOW {
    if (size < 2) return MORE;
    const b0 = bytes[at]!;
    const b1 = bytes[at + 1]!;
    const opcode = b0 & 0x0f;
    // FIN set, no RSV bit, TEXT or BINARY, masked exactly when the peer is a client.
    if ((b0 & 0xf0) !== 0x80 || (opcode !== Opcode.Text && opcode !== Opcode.Binary) || ((b1 & 0x80) !== 0) === this.#masks) return SLOW;
    let length = b1 & 0x7f;
    let head = 2;
    if (length === 126) {
      if (size < 4) return MORE;
      length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      head = 4;
    } else if (length === 127) {
      return SLOW;
    }
    if (length > this.#opts.maxFrameSize || length > this.#opts.maxMessageSize) return SLOW;
    const keyAt = at + head;
    if (!this.#masks) head += 4;
    if (size < head + length) return MORE;
    if (length > COPY_MAX && !views) return MORE;
    const start = at + head;
    let payload: Uint8Array;
    if (length <= COPY_MAX) {
      payload = new Uint8Array(length);
      if (this.#masks) {
        for (let i = 0; i < length; i++) payload[i] = bytes[start + i]!;
      } else {
        const k0 = bytes[keyAt]!;
        const k1 = bytes[keyAt + 1]!;
        const k2 = bytes[keyAt + 2]!;
        const k3 = bytes[keyAt + 3]!;
        let i = 0;
        for (; i + 4 <= length; i += 4) {
          payload[i] = bytes[start + i]! ^ k0;
          payload[i + 1] = bytes[start + i + 1]! ^ k1;
          payload[i + 2] = bytes[start + i + 2]! ^ k2;
          payload[i + 3] = bytes[start + i + 3]! ^ k3;
        }
        if (i < length) payload[i] = bytes[start + i]! ^ k0;
        if (i + 1 < length) payload[i + 1] = bytes[start + i + 1]! ^ k1;
        if (i + 2 < length) payload[i + 2] = bytes[start + i + 2]! ^ k2;
      }
    } else {
      const end = start + length;
      if (!this.#masks) {
        const key = this.#frameKey;
        key[0] = bytes[keyAt]!;
        key[1] = bytes[keyAt + 1]!;
        key[2] = bytes[keyAt + 2]!;
        key[3] = bytes[keyAt + 3]!;
        applyMask(bytes, key, 0, start, end);
      }
      payload = bytes.subarray(start, end);
    }
    this.#taken = head + length;
    this.#msgSeq++; // readers of an earlier message see its end
    this.#msgText = opcode === Opcode.Text;
    if (this.#msgText) this.#utf8.reset();
    return payload;
  }

  *#recvWhole(): Operation<{ text(): string; bytes(): Uint8Array }> {
    const message = this.#whole ?? (yield* this.recv());
    this.#whole = message;
    const data = yield* message.reader.readAll();
    this.#whole = null;
    return data;
  }

  #message(): WebSocketMessage {
    const seq = this.#msgSeq;
    const reader = new MessageReader((hint) => this.#readMessageChunk(seq, hint));
    return { kind: this.#msgText ? "text" : "binary", reader };
  }

  *#readMessageChunk(seq: number, hint: number): Operation<Uint8Array | undefined> {
    if (seq !== this.#msgSeq || !this.#msgActive) return undefined;
    yield* this.#readLock.acquire();
    try {
      if (seq !== this.#msgSeq) return undefined;
      return yield* this.#readPayload(hint);
    } finally {
      this.#readLock.release();
      this.#changed.broadcast();
    }
  }

  /**
   * The next payload bytes of the current message (at most `max`), unmasked
   * and checked; `undefined` once it has ended. Holds the read lock.
   */
  *#readPayload(max: number): Operation<Uint8Array | undefined> {
    for (;;) {
      if (!this.#msgActive) return undefined;
      if (this.#closed !== null) throw this.#closed;
      if (this.#frameRemaining === 0) {
        yield* this.#pumpOne(); // the next frame of this message, after any control frames
        continue;
      }
      const chunk = yield* this.#readSome(Math.min(max, this.#frameRemaining));
      // From here on nothing suspends before the bytes are returned, so a cancellation cannot lose them.
      if (this.#frameMasked) this.#maskPhase = applyMask(chunk, this.#frameKey, this.#maskPhase);
      this.#frameRemaining -= chunk.length;
      if (this.#msgText) {
        const bad = this.#utf8.feed(chunk);
        if (bad !== -1) yield* this.#fail(1007, `invalid UTF-8 in a text message at byte ${this.#msgSizeRead(chunk.length) + bad}`);
      }
      if (this.#frameRemaining === 0 && this.#frameFin) yield* this.#endMessage();
      return chunk;
    }
  }

  #msgSizeRead(justRead: number): number {
    return this.#msgSize - this.#frameRemaining - justRead;
  }

  *#endMessage(): Operation<void> {
    this.#msgActive = false;
    if (this.#msgText && !this.#utf8.finish()) yield* this.#fail(1007, "a text message ends inside a UTF-8 sequence");
  }

  /**
   * Reads one frame header; handles a control frame (and its payload) or
   * starts a data frame. Holds the read lock. Throws the closing error once
   * the connection is closed.
   */
  *#pumpOne(): Operation<void> {
    if (this.#cutOffDue) yield* this.#cutOff();
    if (this.#closed !== null) throw this.#closed;
    if (this.#hdrStage === 0) {
      const two = yield* this.#readExactly(2);
      this.#b0 = two[0]!;
      this.#b1 = two[1]!;
      this.#hdrStage = 1;
    }
    const b0 = this.#b0;
    const b1 = this.#b1;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    if (this.#hdrStage === 1) {
      // Everything the first two bytes can tell is checked before reading on.
      if ((b0 & 0x70) !== 0) yield* this.#fail(1002, "RSV bits set, but no extension was negotiated");
      if (!isKnownOpcode(opcode)) yield* this.#fail(1002, `reserved opcode ${opcode}`);
      if (isControlOpcode(opcode)) {
        if (!fin) yield* this.#fail(1002, "a fragmented control frame");
        if (len7 > MAX_CONTROL_PAYLOAD) yield* this.#fail(1002, "a control frame over 125 bytes");
      } else if (opcode === Opcode.Continuation) {
        if (!this.#msgActive) yield* this.#fail(1002, "a continuation frame outside a fragmented message");
      } else if (this.#msgActive) {
        yield* this.#fail(1002, "a new data frame inside a fragmented message");
      }
      if (masked !== !this.#masks) {
        yield* this.#fail(1002, this.#masks ? "a masked frame from the server" : "an unmasked frame from the client");
      }
      const extra = (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      const rest = extra > 0 ? yield* this.#readExactly(extra) : EMPTY;
      let length = len7;
      let at = 0;
      if (len7 === 126) {
        length = (rest[0]! << 8) | rest[1]!;
        at = 2;
      } else if (len7 === 127) {
        const hi = ((rest[0]! << 24) | (rest[1]! << 16) | (rest[2]! << 8) | rest[3]!) >>> 0;
        const lo = ((rest[4]! << 24) | (rest[5]! << 16) | (rest[6]! << 8) | rest[7]!) >>> 0;
        // Past 2^53 - 1 the length is not even a safe number (and 2^63 and up is not a length at all).
        if (hi > 0x1fffff) yield* this.#fail(1009, "a frame length over 2^53 - 1 bytes");
        length = hi * 0x100000000 + lo;
        at = 8;
      }
      if (isControlOpcode(opcode)) {
        this.#ctlLength = length;
        this.#ctlMasked = masked;
        if (masked) this.#ctlKey.set(rest.subarray(at, at + 4));
        this.#hdrStage = 2;
      } else {
        if (length > this.#opts.maxFrameSize) {
          yield* this.#fail(1009, `a frame of ${length} bytes is over maxFrameSize (${this.#opts.maxFrameSize})`);
        }
        const size = (opcode === Opcode.Continuation ? this.#msgSize : 0) + length;
        if (size > this.#opts.maxMessageSize) {
          yield* this.#fail(1009, `a message of more than ${this.#opts.maxMessageSize} bytes (maxMessageSize)`);
        }
        this.#hdrStage = 0;
        if (opcode !== Opcode.Continuation) {
          this.#msgActive = true;
          this.#msgPending = true;
          this.#msgSeq++;
          this.#msgText = opcode === Opcode.Text;
          this.#utf8.reset();
        }
        this.#msgSize = size;
        this.#frameRemaining = length;
        this.#frameFin = fin;
        this.#frameMasked = masked;
        if (masked) this.#frameKey.set(rest.subarray(at, at + 4));
        this.#maskPhase = 0;
        if (length === 0 && fin) yield* this.#endMessage();
        return;
      }
    }
    // hdrStage 2: a control frame's payload.
    const payload = this.#ctlLength > 0 ? yield* this.#readExactly(this.#ctlLength) : EMPTY;
    this.#hdrStage = 0;
    if (this.#ctlMasked) applyMask(payload, this.#ctlKey);
    yield* this.#control(opcode, payload);
  }

  *#control(opcode: number, payload: Uint8Array): Operation<void> {
    if (opcode === Opcode.Ping) {
      if (this.#closeSent) return; // after our CLOSE only the peer's CLOSE matters
      const pong = payload.slice();
      // Shielded: a PONG half-way through the write lock is sent whole even if this read is cancelled.
      yield* this.#shielded(() => this.#frame(Opcode.Pong, true, pong, 0, pong.length));
      return;
    }
    if (opcode === Opcode.Pong) {
      const waiting = this.#pings.get(hex(payload));
      if (waiting !== undefined) {
        waiting.done = true;
        this.#changed.broadcast();
      }
      return; // an unsolicited PONG is ignored
    }
    // CLOSE
    const parsed = parseClosePayload(payload);
    if (typeof parsed === "number")
      yield* this.#fail(parsed, parsed === 1007 ? "a close reason that is not UTF-8" : "a malformed CLOSE frame");
    const close = parsed as ClosePayload;
    this.#closeReceived = close;
    this.#closed ??= new ConnectionClosed(close.code, close.reason);
    yield* this.#sendClose(close.code === 1005 ? EMPTY : encodeClosePayload(close.code));
    this.#drop(false);
    throw this.#closed;
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends a text message as one frame. Cancelled, it sent the whole message
   * or nothing: once the first bytes of the frame went out, the rest follows
   * shielded (a frame cut in the middle would break the framing).
   */
  sendText(text: string): Operation<void> {
    // The operation checks `text` when it runs.
    return asOperation(new WebSocket.#Send(this, Opcode.Text, text));
  }

  /** Sends a binary message as one frame; all or nothing under cancellation, as {@link WebSocket.sendText}. */
  sendBinary(bytes: Uint8Array): Operation<void> {
    return asOperation(new WebSocket.#Send(this, Opcode.Binary, bytes));
  }

  /** What `sendText` (`data` must be a string) and `sendBinary` (a Uint8Array) send. */
  static #messageBytes(opcode: number, data: unknown): Uint8Array {
    if (opcode === Opcode.Text) {
      if (typeof data !== "string") throw new TypeError(`sendText(): text must be a string, got ${describe(data)}`);
      return toBytes("sendText()", data);
    }
    if (!(data instanceof Uint8Array)) throw new TypeError(`sendBinary(): bytes must be a Uint8Array, got ${describe(data)}`);
    return data;
  }

  /** A whole message as one frame, the general way: after any other message being sent, in frames of at most WRITE_PIECE bytes. */
  *#sendFramed(opcode: number, bytes: Uint8Array): Operation<void> {
    if (this.#cutOffDue || this.#closed !== null || this.#closeSent) yield* this.#checkSend();
    yield* this.#messageLock.acquire();
    try {
      yield* this.#frame(opcode, true, bytes, 0, bytes.length);
    } finally {
      this.#messageLock.release();
    }
  }

  /** The message and write locks a whole-frame send took are given up. */
  #endSending(): void {
    this.#writeLock.release();
    this.#messageLock.release();
  }

  /**
   * `sendText()`/`sendBinary()` as a hand-written operation. The common
   * case, a server's message of at most WRITE_PIECE bytes with no other
   * write under way: the frame built here and handed to the transport in one
   * write, and a resume while that waits is one call into it. Every other
   * case (a client's masked frame, a larger message, another message or a
   * frame being written, the connection closing) is handed to
   * {@link WebSocket.#sendFramed}.
   */
  static readonly #Send = class Send extends FastOperation<void> {
    /** The transport this operation writes to directly (see `rawWrite`), while it does. */
    rawTo: Writer | null = null;

    constructor(
      readonly ws: WebSocket,
      readonly opcode: number,
      readonly data: unknown,
    ) {
      super();
    }

    protected start(): IteratorResult<unknown, void> {
      const ws = this.ws;
      const bytes = WebSocket.#messageBytes(this.opcode, this.data);
      const length = bytes.length;
      if (!ws.#cutOffDue && ws.#closed === null && !ws.#closeSent && !ws.#masks && length <= WRITE_PIECE && ws.#messageLock.tryAcquire()) {
        if (ws.#writeLock.tryAcquire()) {
          if (ws.#dropped) {
            ws.#endSending();
            throw ws.#closed ?? new ConnectionClosed(1006);
          }
          const head = headerSize(length, false);
          const out = head + length <= 64 ? wireBytes(head + length) : allocBytes(head + length);
          writeHeader(out, 0, true, this.opcode, length, null);
          out.set(bytes, head);
          // Made for this write: the transport may keep it instead of a copy.
          const to = writerNow(ws.#t);
          let raw: Operation<unknown> | null;
          try {
            raw = rawWrite(to, out, NO_RETURN);
          } catch (error) {
            throw this.waitFailed(error);
          }
          if (raw === null) return this.wait(writeHandedOver(to, out, NO_RETURN));
          this.rawTo = to;
          return this.wait(raw);
        }
        ws.#messageLock.release();
      }
      return this.delegateTo(ws.#sendFramed(this.opcode, bytes));
    }

    /** Ends a raw write to the transport, if one is under way (see `rawWrite`). */
    #endRaw(): void {
      const to = this.rawTo;
      if (to === null) return;
      this.rawTo = null;
      endRawWrite(to);
    }

    protected waited(): IteratorResult<unknown, void> {
      this.#endRaw();
      this.ws.#endSending();
      return DONE_VOID;
    }

    protected waitFailed(error: unknown): unknown {
      const ws = this.ws;
      this.#endRaw();
      const thrown = error instanceof Cancelled ? error : ws.#lost(error);
      ws.#endSending();
      return thrown;
    }

    protected abandon(): void {
      this.#endRaw();
      this.ws.#endSending();
    }
  };

  /**
   * Starts a message sent in pieces: every `write` sends frames at once and
   * `end()` the final one. Other data messages wait until it ends; PINGs are
   * still answered between its frames. Use it with `using` so an error
   * gives it up.
   */
  *startMessage(kind: "text" | "binary"): Operation<WebSocketMessageWriter> {
    if (kind !== "text" && kind !== "binary") throw new TypeError(`startMessage(): kind must be "text" or "binary", got ${describe(kind)}`);
    yield* this.#checkSend();
    yield* this.#messageLock.acquire();
    const sink: MessageSink = {
      frame: (opcode, fin, data, start, end) => this.#frame(opcode, fin, data, start, end),
      cutOff: () => this.#cutOff(),
      cutOffLater: () => {
        this.#cutOffDue = true;
      },
      release: () => this.#messageLock.release(),
      transport: this.#t,
    };
    return new MessageWriter(sink, kind === "text" ? Opcode.Text : Opcode.Binary);
  }

  *#checkSend(): Operation<void> {
    if (this.#cutOffDue) yield* this.#cutOff();
    if (this.#closed !== null) throw this.#closed;
    if (this.#closeSent) throw new ConnectionClosed(1000, "", "the WebSocket is closing: close() was called");
  }

  /**
   * Sends a PING and waits for the PONG with the same payload (by default a
   * fresh one), reading frames itself when no other task is; data messages
   * that arrive meanwhile wait for `recv`. Cancellable. A second ping with
   * the payload of one still waiting is a `WeftUsageError`.
   */
  *ping(payload?: string | Uint8Array): Operation<void> {
    let bytes: Uint8Array;
    if (payload === undefined) {
      const n = ++this.#pingCount;
      bytes = Uint8Array.of(0x77, (n / 0x1000000) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    } else {
      bytes = toBytes("ping()", payload);
    }
    if (bytes.length > MAX_CONTROL_PAYLOAD) throw new RangeError(`ping(): payload must be at most 125 bytes, got ${bytes.length}`);
    const key = hex(bytes);
    if (this.#pings.has(key)) throw new WeftUsageError("ping(): a ping with this payload is still waiting for its pong");
    yield* this.#checkSend();
    const waiting = { done: false };
    this.#pings.set(key, waiting);
    try {
      yield* this.#frame(Opcode.Ping, true, bytes, 0, bytes.length);
      yield* this.#pumpUntil(() => waiting.done, false);
    } finally {
      if (this.#pings.get(key) === waiting) this.#pings.delete(key);
    }
  }

  /**
   * Runs the close handshake: sends a CLOSE frame with `code` (1000 by
   * default) and `reason` (at most 123 bytes of UTF-8), reads (discarding
   * data) until the peer's CLOSE or `closeTimeout`, then closes the
   * transport. Returns at once if the connection is already closed. Every
   * later operation raises `ConnectionClosed`.
   */
  *close(code = 1000, reason = ""): Operation<void> {
    const payload = encodeClosePayload(code, reason);
    try {
      if (this.#dropped) return;
      if (!this.#closeSent) {
        this.#closeSent = true;
        try {
          yield* this.#frame(Opcode.Close, true, payload, 0, payload.length);
        } catch (error) {
          if (error instanceof ConnectionClosed) return;
          throw error;
        }
      }
      if (this.#closeReceived === null && !this.#dropped) {
        yield* withTimeoutOpt(this.#opts.closeTimeout, () => this.#pumpUntil(() => this.#closeReceived !== null || this.#dropped, true));
      }
    } catch (error) {
      // The handshake ended with the connection anyway.
      if (!(error instanceof ConnectionClosed || error instanceof ProtocolError)) throw error;
    } finally {
      this.#closed ??= new ConnectionClosed(code, reason, `the WebSocket was closed by this side (${code})`);
      this.#drop(false);
    }
  }

  /** Drops the transport at once (`abort()` where it has one), without a close handshake. */
  [Symbol.dispose](): void {
    this.#closed ??= new ConnectionClosed(1006, "", "the WebSocket was dropped by this side");
    this.#drop(true);
  }

  // ---------------------------------------------------------------- internals

  /**
   * Reads frames (taking the read lock when it is free) until `done()`.
   * With `discard`, data messages are read and thrown away; without, a
   * data message waiting for `recv` stops it until someone reads it.
   */
  *#pumpUntil(done: () => boolean, discard: boolean): Operation<void> {
    for (;;) {
      if (done()) return;
      if (this.#closed !== null) throw this.#closed;
      const busy = !discard && (this.#msgActive || this.#msgPending);
      if (busy || !this.#readLock.tryAcquire()) {
        yield* this.#changed.wait();
        continue;
      }
      try {
        if (discard && this.#msgPending) {
          this.#msgPending = false;
          this.#msgSeq++; // readers of that message see its end
        }
        if (discard && this.#msgActive) yield* this.#readPayload(DISCARD_PIECE);
        else yield* this.#pumpOne();
      } finally {
        this.#readLock.release();
        this.#changed.broadcast();
      }
    }
  }

  /**
   * Writes one frame of `data[start..end)` under the write lock. Up to
   * WRITE_PIECE bytes it is one transport write (all or nothing); a larger
   * frame's first piece is cancellable, the rest is written shielded.
   */
  *#frame(opcode: number, fin: boolean, data: Uint8Array, start: number, end: number): Operation<void> {
    const length = end - start;
    const key = this.#masks ? nextMaskKey().slice() : null;
    const head = headerSize(length, key !== null);
    yield* this.#writeLock.acquire();
    try {
      if (this.#dropped) throw this.#closed ?? new ConnectionClosed(1006);
      const first = Math.min(length, WRITE_PIECE);
      // A small frame goes out as it is made (see wireBytes); a larger one comes from the shared slabs.
      const out = head + first <= 64 ? wireBytes(head + first) : allocBytes(head + first);
      writeHeader(out, 0, fin, opcode, length, key);
      out.set(start === 0 && first === data.length ? data : data.subarray(start, start + first), head);
      let phase = key === null ? 0 : applyMask(out, key, 0, head);
      yield* this.#write(out, true);
      if (first === length) return;
      yield* protectFromCancel(
        function* (this: WebSocket): Operation<void> {
          for (let at = start + first; at < end; at += WRITE_PIECE) {
            const stop = Math.min(end, at + WRITE_PIECE);
            if (key === null) {
              yield* this.#write(data.subarray(at, stop)); // the transport copies if it keeps them
            } else {
              // A copy to mask: not data.slice(), which is a view when data is a Node Buffer (the caller's bytes would be masked).
              const piece = new Uint8Array(data.subarray(at, stop));
              phase = applyMask(piece, key, phase);
              yield* this.#write(piece, true);
            }
          }
        }.bind(this),
      );
    } finally {
      this.#writeLock.release();
    }
  }

  /** Writes `bytes` to the transport; `made` says they were made for this write, so the transport may keep them. */
  *#write(bytes: Uint8Array, made = false): Operation<void> {
    try {
      const to = writerNow(this.#t);
      yield* made ? writeHandedOver(to, bytes, NO_RETURN) : to.write(bytes);
    } catch (error) {
      if (error instanceof Cancelled) throw error;
      throw this.#lost(error);
    }
  }

  /** Exactly `n` bytes from the input, reading the transport as needed. Cancelled, it has taken nothing (bytes read stay in the input). */
  *#readExactly(n: number): Operation<Uint8Array> {
    while (this.#in.end - this.#in.start < n) yield* this.#fillInput();
    return this.#in.take(n);
  }

  /** Up to `max` bytes: from the input while it holds some, else straight from the transport. */
  *#readSome(max: number): Operation<Uint8Array> {
    const held = this.#in.end - this.#in.start;
    if (held > 0) return this.#in.take(Math.min(held, max));
    // Payload handed out as it came is a plain array too (never a Node Buffer, whose slice() is a view).
    return plainView(yield* this.#transportRead(max));
  }

  /** Appends whatever the transport has next to the input. */
  *#fillInput(): Operation<void> {
    this.#in.append(plainView(yield* this.#transportRead(Infinity)));
  }

  *#transportRead(max: number): Operation<Uint8Array> {
    let chunk: Uint8Array | undefined;
    try {
      chunk = yield* readerNow(this.#t).readSome(max);
    } catch (error) {
      if (error instanceof Cancelled) throw error;
      throw this.#lost(error);
    }
    if (chunk === undefined) throw this.#lost(undefined);
    return chunk;
  }

  /** The transport ended or failed without a CLOSE frame: 1006. */
  #lost(cause: unknown): ConnectionClosed {
    if (this.#closed === null) {
      this.#closed = new ConnectionClosed(1006, "", "the transport ended without a CLOSE frame");
      if (cause !== undefined) (this.#closed as { cause?: unknown }).cause = cause;
    }
    this.#drop(true);
    return this.#closed;
  }

  /** Fails the connection: CLOSE with `code` (if none was sent), transport closed, `ProtocolError` thrown. */
  *#fail(code: number, message: string): Operation<never> {
    this.#closed ??= new ConnectionClosed(code, "", `the WebSocket connection was failed with ${code}: ${message}`);
    yield* this.#sendClose(encodeClosePayload(code));
    this.#drop(false);
    throw new ProtocolError(code, message);
  }

  /** A message being sent was cut off: fail the connection with 1011. */
  *#cutOff(): Operation<void> {
    this.#cutOffDue = false;
    this.#closed ??= new ConnectionClosed(1011, "", "the WebSocket was failed with 1011: a message being sent was cut off");
    yield* this.#sendClose(encodeClosePayload(1011));
    this.#drop(false);
  }

  /** Sends a CLOSE frame once, shielded and bounded by `closeTimeout`; a transport that fails is ignored (it is dropped next). */
  *#sendClose(payload: Uint8Array): Operation<void> {
    if (this.#closeSent || this.#dropped) return;
    this.#closeSent = true;
    yield* this.#shielded(() => this.#frame(Opcode.Close, true, payload, 0, payload.length));
  }

  /** Runs a small control write shielded, for at most `closeTimeout`; a lost transport is left to the caller's next step. */
  *#shielded(body: () => Operation<void>): Operation<void> {
    try {
      yield* protectFromCancel(() => withTimeoutOpt(this.#opts.closeTimeout, body));
    } catch (error) {
      if (!(error instanceof ConnectionClosed)) throw error;
    }
  }

  #drop(abort: boolean): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.#closed ??= new ConnectionClosed(1006);
    const t = this.#t;
    try {
      if (abort && typeof t.abort === "function") t.abort();
      else t.close();
    } catch {
      // Closing a transport that already failed may throw; it is gone either way.
    }
    this.#changed.broadcast();
  }
}
