/**
 * Type tests for `weft/web`: the platform's `WebSocket` class (the DOM's,
 * and the `ws` package's, which Node 20 users pass) fits `options.WebSocket`,
 * the platform's `fetch` fits `options.fetch`, and what the operations give.
 * Compiled, never run.
 */
import { WebSocket as NodeWebSocket } from "ws";
import type { Operation } from "../src/index.ts";
import type { Reader } from "../src/io.ts";
import {
  connectWebSocket,
  fetchResponse,
  type PlatformWebSocket,
  type PlatformWebSocketMessage,
  type WebResponse,
  type WebSocketConstructorLike,
} from "../src/web.ts";
import { expectType } from "./expect.ts";

export function* webSockets(): Operation<void> {
  const dom: WebSocketConstructorLike = WebSocket;
  const node: WebSocketConstructorLike = NodeWebSocket;
  using a = yield* connectWebSocket("ws://127.0.0.1/", { WebSocket: dom });
  using b = yield* connectWebSocket(new URL("ws://127.0.0.1/"), { WebSocket: node, protocols: ["x"] });
  expectType<PlatformWebSocket>()(a);
  expectType<PlatformWebSocketMessage>()(yield* b.recv());
  expectType<Reader>()((yield* b.recv()).reader);
  expectType<"text" | "binary">()((yield* b.recv()).kind);
  expectType<string>()(yield* a.recvText());
  expectType<Uint8Array>()(yield* a.recvBytes());
  // @ts-expect-error: protocols are strings
  yield* connectWebSocket("ws://127.0.0.1/", { protocols: [1] });
  // @ts-expect-error: sendText takes a string
  yield* a.sendText(new Uint8Array(1));
}

export function* fetching(): Operation<void> {
  using res = yield* fetchResponse("http://127.0.0.1/", { method: "POST", body: "x" }, { fetch });
  expectType<WebResponse>()(res);
  expectType<Headers>()(res.headers);
  expectType<{ n: number }>()(yield* res.json<{ n: number }>({ maxSize: 10 }));
  expectType<string>()(yield* res.text());
  // @ts-expect-error: maxSize is a number
  yield* res.bytes({ maxSize: "1" });
}
