/** One message of a live order stream (GET /orders/:id/stream). */
export interface StreamMessage {
  event: string;
  id?: string;
  data: unknown;
}

/**
 * Reads a live order stream as a browser would, from fetch's body: collects its
 * messages so a test can wait for one, and says when the server closed it.
 */
export class OrderStreamReader {
  readonly messages: StreamMessage[] = [];
  private ended = false;
  private waiters: (() => void)[] = [];
  private readonly abort = new AbortController();

  private constructor(readonly response: Response) {}

  static async open(url: string, token: string | Promise<string>, lastEventId?: number): Promise<OrderStreamReader> {
    const controller = new AbortController();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${await token}`, accept: 'text/event-stream', ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}) },
      signal: controller.signal,
    });
    const reader = new OrderStreamReader(response);
    reader.abort.signal.addEventListener('abort', () => controller.abort());
    if (response.ok && response.body) void reader.pump(response.body);
    else reader.finish();
    return reader;
  }

  get status(): number {
    return this.response.status;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** The `recorded` messages' data so far. */
  get recorded(): { version: number; type: string; at: string; source: string }[] {
    return this.messages.filter((m) => m.event === 'recorded').map((m) => m.data as { version: number; type: string; at: string; source: string });
  }

  /** Resolves with the first message (already here or to come) that matches; throws on timeout or end of stream. */
  async waitFor(match: (m: StreamMessage) => boolean, timeoutMs = 60_000): Promise<StreamMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.ended) throw new Error(`stream ended without the message; got ${JSON.stringify(this.messages)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once the server ended the stream. */
  async waitClosed(timeoutMs = 30_000): Promise<void> {
    await this.waitFor(() => false, timeoutMs).catch(() => undefined);
    if (!this.ended) throw new Error(`stream still open after ${timeoutMs} ms`);
  }

  close(): void {
    this.abort.abort();
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted, or the connection broke: the stream has ended either way
    }
    this.finish();
  }

  private parse(block: string): void {
    const message: StreamMessage = { event: 'message', data: undefined };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') message.event = value;
      else if (field === 'id') message.id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    message.data = JSON.parse(data.join('\n')) as unknown;
    this.messages.push(message);
    this.wake();
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
