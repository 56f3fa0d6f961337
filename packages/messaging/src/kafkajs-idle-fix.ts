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
 */
interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const CHECK_PENDING_REQUESTS_INTERVAL = 10;

let applied = false;

export function applyKafkajsIdleFix(): void {
  if (applied) return;
  applied = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== '2.2.4') throw new Error(`kafkajs ${version}: review src/kafkajs-idle-fix.ts before upgrading (written for 2.2.4)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals };
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
