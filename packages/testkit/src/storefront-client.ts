import { signToken } from '@orderflow/auth';
import { OrderStreamReader } from './order-stream';

export interface PlaceOrderRequest {
  items: { sku: string; quantity: number }[];
  payment: { token: string };
  shippingAddress: { name: string; line1: string; city: string; postalCode: string; country: string };
}

export interface OrderView {
  orderId: string;
  status: 'PENDING' | 'CONFIRMED' | 'COMPLETED' | 'CANCELLED';
  reason?: string;
  items: { sku: string; quantity: number; unitPrice: number }[];
  total: number;
  currency: string;
  history: { type: string; at: string; source: string }[];
}

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A token as the orders service's development sign-in issues it (the one signer of @orderflow/auth). */
export function signDevToken(customerId: string, secret: string, ttlSeconds = 3600, roles: readonly string[] = []): Promise<string> {
  return signToken(secret, { sub: customerId, ttlSeconds, roles });
}

export const sampleAddress = { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The storefront API as a customer sees it. */
export class StorefrontClient {
  constructor(
    private readonly baseUrl: string,
    /** Signing is asynchronous: a client may be given the token while it is being signed. */
    private readonly token: string | Promise<string> | undefined,
    /** Gives up on an answer after this long (a load generator must not pile up hung requests). */
    private readonly timeoutMs?: number,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    const token = await this.token;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      ...(this.timeoutMs !== undefined ? { signal: AbortSignal.timeout(this.timeoutMs) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  products() {
    return this.request<{ sku: string; name: string; unitPrice: number; currency: string; available: number }[]>('GET', '/products');
  }

  placeOrder(order: PlaceOrderRequest | string, idempotencyKey?: string) {
    return this.request<{ orderId: string; status: string }>('POST', '/orders', order, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }

  getOrder(orderId: string) {
    return this.request<OrderView>('GET', `/orders/${orderId}`);
  }

  /** GET /orders, one page. */
  listOrders(query: { limit?: number | string; cursor?: string } = {}) {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
    return this.request<{ orders: (Omit<OrderView, 'history'> & { placedAt: string; updatedAt: string })[]; next?: string }>(
      'GET',
      `/orders${params.size ? `?${params.toString()}` : ''}`,
    );
  }

  /** Opens the order's live stream (Server-Sent Events). */
  streamOrder(orderId: string, lastEventId?: number): Promise<OrderStreamReader> {
    return OrderStreamReader.open(`${this.baseUrl}/orders/${orderId}/stream`, this.token ?? '', lastEventId);
  }

  cancel(orderId: string) {
    return this.request('POST', `/orders/${orderId}/cancel`);
  }

  /** Polls until the order reaches one of `statuses`; throws with the last view on timeout. */
  async waitForStatus(orderId: string, statuses: OrderView['status'][], timeoutMs = 60_000): Promise<OrderView> {
    const deadline = Date.now() + timeoutMs;
    let last: HttpResult<OrderView> | undefined;
    while (Date.now() < deadline) {
      last = await this.getOrder(orderId).catch(() => undefined);
      if (last?.status === 200 && statuses.includes(last.body.status)) return last.body;
      await sleep(200);
    }
    throw new Error(`order ${orderId} did not reach ${statuses.join('|')} within ${timeoutMs} ms; last: ${JSON.stringify(last?.body)}`);
  }

  /** Polls until the order's history holds every listed event type. */
  async waitForHistory(orderId: string, types: string[], timeoutMs = 60_000): Promise<OrderView> {
    const deadline = Date.now() + timeoutMs;
    let last: OrderView | undefined;
    while (Date.now() < deadline) {
      const r = await this.getOrder(orderId).catch(() => undefined);
      if (r?.status === 200) {
        last = r.body;
        const seen = new Set(last.history.map((h) => h.type));
        if (types.every((t) => seen.has(t))) return last;
      }
      await sleep(200);
    }
    throw new Error(`order ${orderId} history lacks some of ${types.join(', ')} after ${timeoutMs} ms: ${JSON.stringify(last?.history.map((h) => h.type))}`);
  }
}
