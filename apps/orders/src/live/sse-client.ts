import type { ServerResponse } from 'node:http';

/** What a live stream sends for one recorded event of the order. */
export interface TimelineEntry {
  /** Stream version: the SSE id, and what Last-Event-ID resumes after. */
  version: number;
  type: string;
  at: string;
  /** The service that recorded it: orders, payment, inventory or shipping. */
  source: string;
}

export interface OrderStatusView {
  status: string;
  reason?: string;
  /** POST /orders/:id/cancel would be accepted now. */
  cancellable: boolean;
}

/**
 * One open `text/event-stream` response. Bounded: what the client has not read
 * yet waits in the socket's buffer, and a client that lets more than
 * `maxBufferedBytes` pile up is dropped (it can reconnect and resume with
 * Last-Event-ID). Holds no timer of its own: an idle stream is an open socket.
 */
export class SseClient {
  private closed = false;
  private lastStatus = '';

  constructor(
    private readonly response: ServerResponse,
    /** The newest version this client has: Last-Event-ID, then what was sent. */
    public lastVersion: number,
    private readonly maxBufferedBytes: number,
    private readonly onClose: (client: SseClient, reason: 'gone' | 'slow' | 'ended') => void,
  ) {
    response.once('close', () => this.close('gone'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends the entries newer than what the client has, then the status if it changed. */
  deliver(entries: readonly TimelineEntry[], status: OrderStatusView): void {
    let text = '';
    for (const entry of entries) {
      if (entry.version <= this.lastVersion) continue;
      text += `id: ${entry.version}\nevent: recorded\ndata: ${JSON.stringify(entry)}\n\n`;
      this.lastVersion = entry.version;
    }
    const statusText = JSON.stringify(status);
    if (statusText !== this.lastStatus) {
      text += `event: status\ndata: ${statusText}\n\n`;
      this.lastStatus = statusText;
    }
    if (text) this.write(text);
  }

  /** A comment line: keeps proxies from closing an idle stream. */
  heartbeat(): void {
    this.write(': keep-alive\n\n');
  }

  write(text: string): void {
    if (this.closed) return;
    // writableLength is what the socket has not taken yet: a reader that stopped.
    if (this.response.writableLength + Buffer.byteLength(text) > this.maxBufferedBytes) {
      this.close('slow');
      return;
    }
    this.response.write(text);
  }

  /** Ends the response; `slow` cuts the connection, since a client that does not read will not read the end either. */
  close(reason: 'gone' | 'slow' | 'ended'): void {
    if (this.closed) return;
    this.closed = true;
    if (reason === 'slow') this.response.destroy();
    else if (reason === 'ended') this.response.end();
    this.onClose(this, reason);
  }
}
