/**
 * The one suspension point of the compression writers and readers: waiting
 * for their codec to change.
 */
import { action } from "../../core/action.ts";
import type { Operation } from "../../core/operation.ts";
import type { Codec } from "./codec.ts";

/** Waits until `codec` has output, finished, failed or consumed input. Cancellable; changes nothing. */
export function waitForCodec(codec: Codec): Operation<void> {
  return action<void>((resolve) => codec.onChange(() => resolve()));
}
