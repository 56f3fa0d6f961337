import type { Transport } from '@orderflow/messaging';

/** Answers readiness probes; caches the answer briefly so frequent probes do not hammer the broker. */
export class BrokerProbe {
  private cached: { at: number; up: boolean } | undefined;

  constructor(private readonly transport: Pick<Transport, 'reachable'>) {}

  async reachable(): Promise<boolean> {
    if (this.cached && Date.now() - this.cached.at < 2_000) return this.cached.up;
    const up = await this.transport.reachable();
    this.cached = { at: Date.now(), up };
    return up;
  }
}
