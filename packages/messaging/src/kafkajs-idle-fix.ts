/**
 * kafkajs 2.2.4 (pinned, and the last release) re-arms a 1 ms timer for ever on
 * every broker connection once it has sent a request, even with nothing queued
 * and no throttling: `scheduleCheckPendingRequests` sets a timeout with a
 * negative delay that calls it again. An idle service burns a few percent of a
 * core on it (tulios/kafkajs#1556, #1704; the fix, #1667, was never released).
 *
 * The same method, without the loop: a check is scheduled only while requests
 * wait or a throttle is running. A request pushed later schedules its own check
 * (`push` calls this method), so nothing waits longer than before.
 *
 * It also checks every connection's requests for their timeout once a second
 * instead of every 100 ms (`scheduleRequestTimeoutCheck`): a service holds four
 * or five connections, and those checks were most of its wake-ups when idle. A
 * request that outlives its timeout (30 s, or a fetch's wait plus that) now fails
 * at most a second after it rather than a tenth of one.
 */
interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId: NodeJS.Timeout | null;
  isConnected(): boolean;
  destroy(): void;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
}

const CHECK_PENDING_REQUESTS_INTERVAL = 10;
/** How often a connection looks for requests past their timeout (kafkajs: 100 ms). */
export const REQUEST_TIMEOUT_CHECK_INTERVAL = 1_000;

let applied = false;

export function applyKafkajsIdleFix(): void {
  if (applied) return;
  applied = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== '2.2.4') throw new Error(`kafkajs ${version}: review src/kafkajs-idle-fix.ts before upgrading (written for 2.2.4)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals };
  RequestQueue.prototype.scheduleRequestTimeoutCheck = function scheduleRequestTimeoutCheck(this: RequestQueueInternals): void {
    if (!this.enforceRequestTimeout) return;
    this.destroy();
    this.requestTimeoutIntervalId = setInterval(
      () => {
        const now = Date.now();
        this.inflight.forEach((request) => {
          if (now - request.sentAt > request.requestTimeout) request.timeoutRequest();
        });
        if (!this.isConnected()) this.destroy();
      },
      Math.min(this.requestTimeout, REQUEST_TIMEOUT_CHECK_INTERVAL),
    );
  };
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
    if (this.throttleCheckTimeoutId) return;
    const throttled = this.throttledUntil - Date.now();
    if (this.pending.length === 0 && throttled <= 0) return;
    const delay = throttled > 0 ? throttled : CHECK_PENDING_REQUESTS_INTERVAL;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delay);
  };
}
