import { REQUEST_TIMEOUT_CHECK_INTERVAL, applyKafkajsIdleFix } from './kafkajs-idle-fix';

interface Queue {
  inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleRequestTimeoutCheck(): void;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (options: object) => Queue;

const queue = (isConnected = () => true): Queue =>
  new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: true, clientId: 'test', broker: 'b:9092', logger: {}, isConnected });

describe('the kafkajs idle fix', () => {
  beforeAll(() => applyKafkajsIdleFix());
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('looks for timed-out requests once a second, and times out one past its timeout at the next look', () => {
    const q = queue();
    q.scheduleRequestTimeoutCheck();
    const timeoutRequest = jest.fn();
    q.inflight.set(1, { sentAt: 0, requestTimeout: 1_500, timeoutRequest });
    const looks = jest.spyOn(q.inflight, 'forEach');

    jest.advanceTimersByTime(REQUEST_TIMEOUT_CHECK_INTERVAL);
    expect(timeoutRequest).not.toHaveBeenCalled();
    jest.advanceTimersByTime(REQUEST_TIMEOUT_CHECK_INTERVAL);
    expect(timeoutRequest).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(8 * REQUEST_TIMEOUT_CHECK_INTERVAL);
    expect(looks).toHaveBeenCalledTimes(10);
    q.destroy();
  });

  it('stops looking once the connection is gone, and leaves no timer behind', () => {
    let connected = true;
    const q = queue(() => connected);
    q.scheduleRequestTimeoutCheck();
    expect(jest.getTimerCount()).toBe(1);
    connected = false;
    jest.advanceTimersByTime(REQUEST_TIMEOUT_CHECK_INTERVAL);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('schedules no check of pending requests while none wait and nothing is throttled', () => {
    const q = queue();
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
    q.pending.push({});
    q.scheduleCheckPendingRequests();
    expect(jest.getTimerCount()).toBe(1);
    q.destroy();
  });
});
