import type { Locator } from 'playwright-core';

/**
 * Retries an assertion until it holds or the time is up (then throws its last
 * failure): the page changes on its own as events arrive, so a check must wait for it.
 */
export async function eventually(check: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export const seeText = (locator: Locator, text: string, timeoutMs?: number) =>
  eventually(async () => expect(await locator.innerText({ timeout: 1_000 })).toContain(text), timeoutMs);

export const seeCount = (locator: Locator, count: number, timeoutMs?: number) =>
  eventually(async () => expect(await locator.count()).toBe(count), timeoutMs);

export const seeAttribute = (locator: Locator, name: string, value: string | null, timeoutMs?: number) =>
  eventually(async () => expect(await locator.getAttribute(name, { timeout: 1_000 })).toBe(value), timeoutMs);
